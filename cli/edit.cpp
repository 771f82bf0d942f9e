#include "cli/edit.h"

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>

#include "api/json.h"
#include "api/yaml.h"

namespace corral::cli {

namespace {

constexpr const char* kHeader =
    "# Edit the object below and save to apply it; quit without saving (or leave the\n"
    "# file empty) to cancel. Lines starting with '#' are ignored. The change is sent\n"
    "# pinned to the version shown here: if the object changes meanwhile, it is refused\n"
    "# and this file is kept.\n";

int fail(Context& ctx, const Error& e) {
  print_error(ctx.err, e);
  return kExitError;
}

// The text without comment lines: what decides "empty".
bool only_comments(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != '#') return false;
  }
  return true;
}

Result<std::string> write_temp(const std::string& dir, const std::string& text) {
  std::string path = (dir.empty() ? std::string("/tmp") : dir) + "/corralctl-edit-XXXXXX.yaml";
  const int fd = ::mkstemps(path.data(), 5);
  if (fd < 0)
    return make_error(ErrorCode::kUnavailable, "cannot create a temporary file in " + dir);
  ::close(fd);
  std::ofstream out(path);
  out << text;
  if (!out) return make_error(ErrorCode::kUnavailable, "cannot write " + path);
  return path;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string name_of(const Json& object) {
  return object.value("metadata", Json::object()).value("name", "");
}

}  // namespace

std::string default_editor() {
  for (const char* var : {"CORRAL_EDITOR", "EDITOR"}) {
    if (const char* value = std::getenv(var); value && *value) return value;
  }
  return "vi";
}

int run_editor_process(const std::string& editor, const std::string& file) {
  // sh -c '<editor> "$1"' sh FILE: the file name is never parsed by the shell.
  const std::string script = editor + " \"$1\"";
  const char* argv[] = {"sh", "-c", script.c_str(), "sh", file.c_str(), nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
    return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_edit(Context& ctx, const EditOptions& options) {
  // KIND NAME or KIND/NAME.
  auto expanded = expand_object_ref(options.args);
  if (!expanded) {
    print_error(ctx.err, expanded.error());
    return kExitError;
  }
  const std::vector<std::string>& args = *expanded;
  if (args.size() != 2 || args[1].empty())
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                "edit one object: `corralctl edit KIND NAME` or `corralctl edit KIND/NAME`"));
  auto kind = resolve_kind(args[0]);
  if (!kind) return fail(ctx, kind.error());
  const std::string& name = args[1];
  auto original = ctx.client.get(**kind, name);
  if (!original) return fail(ctx, original.error());

  auto path = write_temp(options.temp_dir, std::string(kHeader) + to_yaml(*original));
  if (!path) return fail(ctx, path.error());
  const int status = options.run_editor ? options.run_editor(*path) : 127;
  if (status != 0) {
    ::unlink(path->c_str());
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                "the editor exited with status " + std::to_string(status) +
                                    ": nothing changed (set CORRAL_EDITOR or EDITOR)"));
  }
  const std::string text = read_all(*path);
  if (only_comments(text)) {
    ::unlink(path->c_str());
    ctx.out << "Edit cancelled, the saved file was empty.\n";
    return kExitOk;
  }
  auto kept = [&](Error e) {
    e.message += "\nyour edit is kept in " + *path;
    return fail(ctx, e);
  };
  auto docs = parse_yaml_documents(text, *path);
  if (!docs) return kept(docs.take_error());
  if (docs->size() != 1)
    return kept(make_error(ErrorCode::kBadRequest, *path + ": edit one object (one YAML document)"));
  Json edited = (*docs)[0].object;
  if (edited == *original) {
    ::unlink(path->c_str());
    ctx.out << "Edit cancelled, no changes made.\n";
    return kExitOk;
  }
  if (!edited.is_object() || edited.value("kind", "") != original->value("kind", "") ||
      name_of(edited) != name)
    return kept(make_error(ErrorCode::kBadRequest,
                           "the kind and the name may not change: that would be another object "
                           "(create it with `corralctl apply`)"));
  // Pinned to what was opened: a change made meanwhile is a conflict.
  edited["metadata"]["resourceVersion"] =
      original->value("metadata", Json::object()).value("resourceVersion", "");
  auto written = ctx.client.replace(**kind, edited);
  if (!written) {
    Error e = written.take_error();
    if (e.code == ErrorCode::kConflict)
      e.message = qualified_name(**kind, name) +
                  " was changed by someone else while you edited it; nothing was written (" +
                  e.message + ")";
    return kept(std::move(e));
  }
  ::unlink(path->c_str());
  ctx.out << qualified_name(**kind, name) << " edited\n";
  return kExitOk;
}

}  // namespace corral::cli
