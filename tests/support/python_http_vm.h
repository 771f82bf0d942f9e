// A VM for Balancer tests and benchmarks run with the process driver: an
// HTTP/1.1 keep-alive server (python3 -c kPythonHttpVm PORT ...) answering
// every GET with "<vm> <node>\n" from the agent's CORRAL_VM_NAME and CORRAL_NODE.
// Arguments after the port are ignored: callers add a marker and the node so
// that "killing a host" can find its VM processes by their argv.
#pragma once

#include <string>
#include <vector>

#include "api/json.h"

namespace corral::testing {

inline constexpr const char* kPythonHttpVm = R"(import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = (os.environ["CORRAL_VM_NAME"] + " " + os.environ["CORRAL_NODE"] + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever())";

struct ApiObject {
  std::string plural;  // "pools", "vmsets", "balancers"
  Json body;
};

// A service to fail hosts under: Pool "web" (spread); VMSet "app", 3 replicas
// of kPythonHttpVm with the process driver, one per node (required
// anti-affinity), `marker` in each VM's argv; Balancer "lb" over it on
// 127.0.0.1:0 in http mode, health-checked every second (rise 1, fall 1),
// connect timeout 1 s. Create them in this order.
inline std::vector<ApiObject> python_http_service(const std::string& marker) {
  Json set = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","replicas":3,
              "antiAffinity":{"topologyKey":"corral.io/hostname","mode":"required"},
              "template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},
                                  "runtime":{"driver":"process"}}}}})");
  set["spec"]["template"]["spec"]["runtime"]["command"] = {
      "/usr/bin/python3", "-c", kPythonHttpVm, "${PORT}", marker, "${CORRAL_NODE}", "end"};
  return {
      {"pools", Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
                                 "spec":{"placement":"spread"}})")},
      {"vmsets", set},
      {"balancers", Json::parse(R"({"apiVersion":"corral/v1","kind":"Balancer","metadata":{"name":"lb"},
          "spec":{"vmSet":"app","listen":"127.0.0.1:0","mode":"http",
                  "healthCheck":{"intervalSeconds":1,"timeoutSeconds":1,"rise":1,"fall":1},
                  "timeouts":{"connectSeconds":1}}})")},
  };
}

}  // namespace corral::testing
