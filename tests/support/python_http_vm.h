// A VM for Balancer tests and benchmarks run with the process driver: an
// HTTP/1.1 keep-alive server (python3 -c kPythonHttpVm PORT ...) answering
// every GET with "<vm> <node>\n" from the agent's CORRAL_VM_NAME and CORRAL_NODE.
// Arguments after the port are ignored: callers add a marker and the node so
// that "killing a host" can find its VM processes by their argv.
#pragma once

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

}  // namespace corral::testing
