// corralctl edit KIND NAME | KIND/NAME: the object in your editor, as kubectl
// edit. The object is written as YAML to a temporary file under a comment
// header; the editor runs on it ($CORRAL_EDITOR, else $EDITOR, else vi); the
// result is sent as a replace pinned to the version that was opened, so a
// change made meanwhile by someone else is a conflict, never overwritten.
// Nothing saved (or an empty file) cancels. When the server refuses the
// edit (invalid, or changed meanwhile), the file is kept and its path said,
// so the work is not lost.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct EditOptions {
  std::vector<std::string> args;  // KIND NAME | KIND/NAME
  // Runs the editor on the file and returns its exit status. corralctl's
  // runs `sh -c '<editor> "$1"'` with the terminal; tests edit in process.
  std::function<int(const std::string& file)> run_editor;
  // Where the temporary file goes (default: $TMPDIR or /tmp).
  std::string temp_dir;
};

int run_edit(Context& ctx, const EditOptions& options);

// The editor corralctl runs: $CORRAL_EDITOR, else $EDITOR, else vi.
std::string default_editor();
// Runs `editor` (which may carry its own arguments: "code --wait") on `file`
// through /bin/sh, with this process's terminal; its exit status, or 127.
int run_editor_process(const std::string& editor, const std::string& file);

}  // namespace corral::cli
