// The Debian packages (issue 18 §3, cmake/packaging.cmake): cpack makes them
// from this build tree's binaries (nothing is compiled again), and each test
// checks them as an operator would meet them: what they hold, whether systemd
// accepts their units, and whether, installed by dpkg in a throwaway root, the
// controller starts from the installed unit, env file and tokens file and
// answers /readyz. Nothing is installed in the real root.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/http_backend.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {
namespace package_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* const kDaemons[] = {"controller", "agent", "balancer"};

// dpkg runs maintainer scripts that call systemd-sysusers, awk and chown, and
// looks for ldconfig and start-stop-daemon: a PATH with the sbin directories
// whatever the test was started with.
CommandResult run(const std::string& binary, const std::vector<std::string>& args) {
  CommandOptions options;
  options.env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
  options.timeout = 120s;
  return run_command(binary, args, options);
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n" + r.out + r.err;
}

// The four packages, made by cpack from this build tree into `dir`: their
// paths by package name (empty, with a test failure, when cpack failed).
// Without `depends` they have no Depends: dpkg-shlibdeps is most of cpack's
// time (22 of 30 s on the sanitizer build's binaries), and only one test reads them.
std::map<std::string, std::string> build_packages(const TempDir& dir, bool depends) {
  std::vector<std::string> args = {"--config", build_path("CPackConfig.cmake"), "-B",
                                   dir.file("debs")};
  if (!depends) {
    args.push_back("-D");
    args.push_back("CPACK_DEBIAN_PACKAGE_SHLIBDEPS=OFF");
  }
  const CommandResult r = run(cpack_command(), args);
  EXPECT_EQ(r.exit_code, 0) << "cpack: " << describe(r);
  std::map<std::string, std::string> debs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir.file("debs"), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".deb")
      debs[name.substr(0, name.find('_'))] = entry.path().string();
  }
  EXPECT_EQ(debs.size(), 4u) << "cpack made: " << r.out;
  return debs;
}

// Unpacks every package into `root` (dpkg-deb -x: files only, no scripts).
void extract(const std::map<std::string, std::string>& debs, const std::string& root) {
  for (const auto& [name, deb] : debs) {
    const CommandResult r = run("/usr/bin/dpkg-deb", {"-x", deb, root});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << describe(r);
  }
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// KEY=VALUE lines of a unit's [Service] section, or of an env file (no
// section): each key's values in order. Quotes around a value are dropped, as
// systemd drops them from an EnvironmentFile.
std::multimap<std::string, std::string> read_settings(const std::string& path, bool unit) {
  std::ifstream in(path);
  std::multimap<std::string, std::string> out;
  std::string section = unit ? "" : "[Service]";
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line;
      continue;
    }
    const auto eq = line.find('=');
    if (section != "[Service]" || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    out.emplace(line.substr(0, eq), value);
  }
  return out;
}

std::string setting(const std::multimap<std::string, std::string>& settings,
                    const std::string& key) {
  auto it = settings.find(key);
  return it == settings.end() ? "" : it->second;
}

std::string unit_path(const std::string& root, const std::string& daemon) {
  return root + "/lib/systemd/system/corral-" + daemon + ".service";
}

// The command systemd would run for `daemon`'s unit under `root`: ExecStart=
// with each $NAME replaced by the words of NAME in the unit's EnvironmentFile=.
std::vector<std::string> exec_start(const std::string& root, const std::string& daemon) {
  const auto unit = read_settings(unit_path(root, daemon), true);
  const auto env = read_settings(root + setting(unit, "EnvironmentFile"), false);
  std::vector<std::string> argv;
  for (const std::string& w : words(setting(unit, "ExecStart"))) {
    if (w.size() > 1 && w[0] == '$') {
      const std::string value = setting(env, w.substr(1));
      EXPECT_FALSE(value.empty()) << daemon << ": the env file sets no " << w;
      for (const std::string& v : words(value)) argv.push_back(v);
    } else {
      argv.push_back(w);
    }
  }
  return argv;
}

// The value after `flag` in argv ("" when absent).
std::string flag_value(const std::vector<std::string>& argv, const std::string& flag) {
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == flag) return argv[i + 1];
  return "";
}

// Whether any file under `dir` contains `needle`.
bool sources_mention(const std::string& dir, const std::string& needle) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() &&
        read_file(entry.path().string()).find(needle) != std::string::npos)
      return true;
  }
  return false;
}

TEST(Packages, HoldTheBinariesUnitsAndConfiguration) {
  TempDir dir;
  const auto debs = build_packages(dir, true);
  ASSERT_EQ(debs.size(), 4u);
  struct Expected {
    std::string package;
    std::vector<std::string> files;  // absolute paths
    std::string conffile;            // "" for none
  };
  const std::vector<Expected> expected = {
      {"corral-controller",
       {"/usr/bin/corral-controller", "/lib/systemd/system/corral-controller.service",
        "/etc/corral/controller.env", "/usr/lib/sysusers.d/corral-controller.conf",
        "/usr/share/corral/tokens.example"},
       "/etc/corral/controller.env"},
      {"corral-agent",
       {"/usr/bin/corral-agent", "/lib/systemd/system/corral-agent.service",
        "/etc/corral/agent.env"},
       "/etc/corral/agent.env"},
      {"corral-balancer",
       {"/usr/bin/corral-balancer", "/lib/systemd/system/corral-balancer.service",
        "/etc/corral/balancer.env", "/usr/lib/sysusers.d/corral-balancer.conf"},
       "/etc/corral/balancer.env"},
      {"corralctl", {"/usr/bin/corralctl"}, ""},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.package);
    ASSERT_TRUE(debs.count(e.package));
    const std::string& deb = debs.at(e.package);
    // Every file root's; the binaries executable by all.
    const CommandResult listing = run("/usr/bin/dpkg-deb", {"-c", deb});
    ASSERT_EQ(listing.exit_code, 0) << describe(listing);
    std::map<std::string, std::string> files;  // path → "mode owner"
    std::istringstream lines(listing.out);
    for (std::string line; std::getline(lines, line);) {
      const auto w = words(line);
      if (w.size() >= 6 && w[0][0] == '-') files[w.back().substr(1)] = w[0] + " " + w[1];
    }
    for (const std::string& f : e.files) {
      ASSERT_TRUE(files.count(f)) << f << " is not in the package:\n" << listing.out;
      const bool binary = f.rfind("/usr/bin/", 0) == 0;
      EXPECT_EQ(files[f], std::string(binary ? "-rwxr-xr-x" : "-rw-r--r--") + " root/root") << f;
    }
    if (e.package == "corral-controller" && fs::is_directory(source_path("ui"))) {
      // The dashboard's files (ui/ in the sources) go with the controller.
      EXPECT_NE(listing.out.find("./usr/share/corral/ui/"), std::string::npos) << listing.out;
    }
    // Depends computed from the libraries the binary links.
    const CommandResult depends = run("/usr/bin/dpkg-deb", {"-f", deb, "Depends"});
    EXPECT_NE(depends.out.find("libc6 (>= "), std::string::npos) << describe(depends);
    const CommandResult conffiles = run("/usr/bin/dpkg-deb", {"-I", deb, "conffiles"});
    EXPECT_EQ(conffiles.out, e.conffile.empty() ? "" : e.conffile + "\n") << describe(conffiles);
    // A daemon's package sets up its user and secret; corralctl's has nothing to set up.
    const bool daemon = e.package != "corralctl";
    for (const char* script : {"postinst", "prerm", "postrm"}) {
      const CommandResult r = run("/usr/bin/dpkg-deb", {"-I", deb, script});
      EXPECT_EQ(r.exit_code == 0, daemon) << script << ": " << describe(r);
      if (r.exit_code == 0) {
        EXPECT_EQ(r.out.rfind("#!/bin/sh\n", 0), 0u) << script;
      }
    }
  }

  const std::string root = dir.file("root");
  extract(debs, root);
  for (const char* daemon : kDaemons) {
    SCOPED_TRACE(daemon);
    const auto unit = read_settings(unit_path(root, daemon), true);
    EXPECT_EQ(setting(unit, "Restart"), "on-failure");
    EXPECT_EQ(setting(unit, "EnvironmentFile"), std::string("/etc/corral/") + daemon + ".env");
    const auto argv = exec_start(root, daemon);
    ASSERT_FALSE(argv.empty());
    EXPECT_EQ(argv[0], std::string("/usr/bin/corral-") + daemon);
    EXPECT_EQ(::access((root + argv[0]).c_str(), X_OK), 0) << root + argv[0];
    // Its state where the unit has systemd make it.
    const std::string data_dir = flag_value(argv, "--data-dir");
    if (!data_dir.empty()) {
      EXPECT_EQ(data_dir, "/var/lib/" + setting(unit, "StateDirectory"));
    }
    // Its secret where postinst makes it (a tokens file, a token file).
    const std::string secret =
        flag_value(argv, std::string(daemon) == "controller" ? "--tokens" : "--token-file");
    EXPECT_EQ(secret.rfind("/etc/corral/", 0), 0u) << secret;
  }
  // The controller and the balancer run as the user the packages declare; the
  // agent as root (it runs the VMs), and only its own process is stopped with
  // it: its VMs and its fence watchdog outlive an agent restart.
  for (const char* daemon : {"controller", "balancer"}) {
    EXPECT_EQ(setting(read_settings(unit_path(root, daemon), true), "User"), "corral") << daemon;
    const std::string sysusers = read_file(root + "/usr/lib/sysusers.d/corral-" + daemon + ".conf");
    EXPECT_NE(sysusers.find("\nu corral "), std::string::npos) << sysusers;
  }
  // SIGHUP reloads --tokens.
  EXPECT_EQ(setting(read_settings(unit_path(root, "controller"), true), "ExecReload"),
            "/bin/kill -HUP $MAINPID");
  const auto agent = read_settings(unit_path(root, "agent"), true);
  EXPECT_EQ(setting(agent, "User"), "");
  EXPECT_EQ(setting(agent, "KillMode"), "process");
  // WatchdogSec= only if the agent pings the systemd watchdog, which it does not yet.
  EXPECT_EQ(setting(agent, "WatchdogSec").empty(),
            !sources_mention(source_path("agent"), "sd_notify"));
}

TEST(Packages, UnitsPassSystemdAnalyzeVerify) {
  const std::string analyze = "/usr/bin/systemd-analyze";
  if (::access(analyze.c_str(), X_OK) != 0)
    GTEST_SKIP() << "systemd-analyze is not installed: units not verified";
  TempDir dir;
  const auto debs = build_packages(dir, false);
  ASSERT_EQ(debs.size(), 4u);
  const std::string root = dir.file("root");
  extract(debs, root);
  // verify wants every Exec*= program where the unit says: the units are
  // checked as shipped, but with /usr/bin/ moved to the unpacked root, whose
  // binaries are not installed on this host (systemd 252's --root would look
  // for systemd's own units, sysinit.target..., in the unpacked root too).
  std::vector<std::string> args = {"verify"};
  for (const char* daemon : kDaemons) {
    std::string text = read_file(unit_path(root, daemon));
    for (size_t at = 0; (at = text.find("=/usr/bin/", at)) != std::string::npos; at += root.size())
      text.insert(at + 1, root);
    const std::string copy = dir.file(std::string("corral-") + daemon + ".service");
    std::ofstream(copy) << text;
    args.push_back(copy);
  }
  const CommandResult r = run(analyze, args);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  // It reports unknown keys and bad values and still exits 0: no output is the pass.
  EXPECT_EQ(r.out + r.err, "");
}

TEST(Packages, InstallInAThrowawayRootWhereTheControllerAnswersReadyz) {
  if (::geteuid() != 0) GTEST_SKIP() << "dpkg --root installs files owned by root: needs root";
  TempDir dir;
  const auto debs = build_packages(dir, false);
  ASSERT_EQ(debs.size(), 4u);
  // An empty root: dpkg's database and the user files the maintainer scripts
  // add to. Its scripts run on this host (there is no shell in the root to
  // chroot into: --force-script-chrootless), told the root by $DPKG_ROOT, which
  // every one of them honours; --force-depends because the root's database has
  // none of the packages they depend on (systemd; the host's libraries are used).
  const std::string root = dir.file("root");
  for (const char* d : {"/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/etc"})
    fs::create_directories(root + d);
  for (const char* f :
       {"/var/lib/dpkg/status", "/var/lib/dpkg/available", "/etc/passwd", "/etc/group"})
    std::ofstream(root + f).flush();
  std::vector<std::string> install = {"--root=" + root, "--force-script-chrootless",
                                      "--force-depends", "-i"};
  for (const auto& [name, deb] : debs) install.push_back(deb);
  const CommandResult installed = run("/usr/bin/dpkg", install);
  ASSERT_EQ(installed.exit_code, 0) << describe(installed);

  // postinst made the corral user in the root and each daemon's secret,
  // private to the user that reads it.
  const std::string passwd = read_file(root + "/etc/passwd");
  ASSERT_EQ(passwd.rfind("corral:x:", 0), 0u) << passwd;
  const unsigned corral_uid = std::stoul(passwd.substr(std::string("corral:x:").size()));
  for (const auto& [secret, uid] :
       std::map<std::string, unsigned>{{"/etc/corral/tokens", corral_uid},
                                       {"/etc/corral/balancer.token", corral_uid},
                                       {"/etc/corral/agent.token", 0}}) {
    struct stat st {};
    ASSERT_EQ(::stat((root + secret).c_str(), &st), 0) << secret;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << secret;
    EXPECT_EQ(st.st_uid, uid) << secret;
  }

  // The controller as its unit starts it, from the installed binary, env file
  // and tokens file; only its addresses (loopback, free ports) and its state
  // directory (systemd's StateDirectory=, here a temporary one) differ.
  std::vector<std::string> argv = exec_start(root, "controller");
  ASSERT_FALSE(argv.empty());
  argv[0] = root + argv[0];
  for (size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--listen" || argv[i] == "--heartbeat-listen") argv[i + 1] = "127.0.0.1:0";
    if (argv[i] == "--data-dir") argv[i + 1] = dir.file("state");
    if (argv[i + 1].rfind("/etc/corral/", 0) == 0 || argv[i + 1].rfind("/usr/share/corral/", 0) == 0)
      argv[i + 1] = root + argv[i + 1];
  }
  Daemon controller("installed corral-controller", 60s);
  std::string error;
  ASSERT_TRUE(controller.start(argv, &error)) << error;
  const std::string address = controller.url().substr(controller.url().find("//") + 2);
  EXPECT_EQ(http_get(address, "/readyz").status, 200) << controller.logs();
  // The installed tokens file is in force: no token, no API.
  EXPECT_EQ(http_get(address, "/apis/corral/v1/vms").status, 401) << controller.logs();
  // The dashboard, from the package's copy of ui/ (--ui-dir in the env file).
  EXPECT_EQ(http_get(address, "/ui/app.js").status, 200) << controller.logs();
  controller.stop();

  // Purging the controller takes its tokens file and env file with it, and
  // leaves the corral user, which the balancer shares.
  const CommandResult purged = run("/usr/bin/dpkg", {"--root=" + root, "--force-script-chrootless",
                                                     "--purge", "corral-controller"});
  ASSERT_EQ(purged.exit_code, 0) << describe(purged);
  EXPECT_FALSE(fs::exists(root + "/etc/corral/tokens"));
  EXPECT_FALSE(fs::exists(root + "/etc/corral/controller.env"));
  EXPECT_FALSE(fs::exists(root + "/usr/bin/corral-controller"));
  EXPECT_TRUE(fs::exists(root + "/etc/corral/balancer.token"));
  EXPECT_EQ(read_file(root + "/etc/passwd"), passwd);
}

}  // namespace package_test
}  // namespace corral::testing
