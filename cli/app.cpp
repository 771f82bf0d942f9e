#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

#include "base/duration.h"
#include "cli/apply.h"
#include "cli/completion.h"
#include "cli/cordon.h"
#include "cli/delete.h"
#include "cli/describe.h"
#include "cli/diff.h"
#include "cli/discovery.h"
#include "cli/drain.h"
#include "cli/edit.h"
#include "cli/get.h"
#include "cli/logs.h"
#include "cli/options.h"
#include "cli/patch_commands.h"
#include "cli/rebalance_plan.h"
#include "cli/simulate.h"
#include "cli/top.h"

namespace corral::cli {

namespace {

// One occurrence of a repeatable option takes exactly one value, so that
// `-f a.yaml NAME` does not swallow NAME.
CLI::Option* repeatable(CLI::Option* opt) { return opt->allow_extra_args(false); }

// The first argument that is neither a flag nor a global flag's value.
std::string first_bare_word(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--server" || a == "--token" || a == "--token-file" || a == "--ca" ||
        a == "--config") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] != '-') return a;
  }
  return "";
}

// What to type, as kubectl says it, for the argument parser's own errors
// ("args is required", "At Most 1 required but received 2").
// kubectl's flag library reads `-o=name` as `-o name`; CLI11 would take
// "=name" as the value. Split each `-X=value` of a one-letter flag so both
// spellings work. CLI11's vector form wants the arguments in reverse order.
std::vector<std::string> kubectl_style_args(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.size() > 3 && a[0] == '-' && a[1] != '-' && a[2] == '=') {
      args.push_back(a.substr(0, 2));
      args.push_back(a.substr(3));
    } else {
      args.push_back(a);
    }
  }
  std::reverse(args.begin(), args.end());
  return args;
}

// The verb being parsed, nested ones included ("simulate fail"); "" before one.
std::string parsed_verb(const CLI::App& app) {
  std::string verb;
  for (const CLI::App* sub : app.get_subcommands()) {
    verb = sub->get_name();
    for (const CLI::App* nested : sub->get_subcommands()) verb += " " + nested->get_name();
  }
  return verb;
}

std::string friendly_parse_error(const CLI::App& app, const CLI::ParseError& e) {
  const std::string what = e.what();
  const std::string verb = parsed_verb(app);
  if (auto at_most = what.find(": At Most 1 required but received"); at_most != std::string::npos)
    return what.substr(0, at_most) + " was given more than once: give it once";
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    static const std::map<std::string, std::string> kWhatToType = {
        {"get", "You must specify the type of resource to get. Use \"corralctl api-resources\" "
                "for a complete list of supported resources."},
        {"describe", "You must specify the type of resource to describe. Use \"corralctl "
                     "api-resources\" for a complete list of supported resources."},
        {"top", "You must specify nodes or vms: corralctl top nodes|vms [NAME...]"},
        {"cordon", "You must specify the nodes to cordon: corralctl cordon NODE..."},
        {"uncordon", "You must specify the nodes to uncordon: corralctl uncordon NODE..."},
        {"drain", "You must specify the node to drain: corralctl drain NODE"},
        {"logs", "You must specify the VM: corralctl logs NAME"},
        {"apply", "You must give the manifests: corralctl apply -f FILE|DIR|-"},
        {"diff", "You must give the manifests: corralctl diff -f FILE|DIR|-"},
        {"patch", "You must specify the object: corralctl patch KIND NAME -p PATCH"},
        {"edit", "You must specify the object: corralctl edit KIND NAME"},
        {"completion", "You must specify the shell: corralctl completion bash|zsh"},
        {"label", "You must specify the object: corralctl label KIND NAME key=value... key-..."},
        {"annotate", "You must specify the object: corralctl annotate KIND NAME key=value... key-..."},
        {"simulate fail", "You must specify the nodes: corralctl simulate fail NODE..."},
        {"rebalance plan", "You must specify the pool: corralctl rebalance plan POOL"},
    };
    if (verb == "scale")
      return what.find("--replicas") != std::string::npos
                 ? "You must give the number of replicas: corralctl scale vmset NAME --replicas N"
                 : "You must specify the VMSet: corralctl scale vmset NAME --replicas N";
    if (auto it = kWhatToType.find(verb); it != kWhatToType.end()) return it->second;
  }
  return what;
}

}  // namespace

int run_corralctl(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
                  const ClientFactory& factory) {
  CLI::App app{"corralctl controls a Corral cluster: pools of hosts that keep VMs running.", "corralctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may come after the verb, as with kubectl
  app.set_version_flag("--version", std::string("corralctl ") + CORRAL_VERSION);

  GlobalOptions global;
  app.add_option("--server", global.server,
                 "API server URL, or several comma-separated: a request that cannot reach one moves to the next (overrides CORRAL_SERVER and the config file's server:)");
  app.add_option("--token-file", global.token_file,
                 "file holding the bearer token, mode 600 (overrides CORRAL_TOKEN and the "
                 "config file's token:)");
  // Refused with a pointer to --token-file: argv is readable by every user.
  app.add_option("--token", global.token)->group("");
  app.add_option("--ca", global.ca, "PEM CA bundle to verify the server (overrides CORRAL_CA and ca:)");
  app.add_flag("--insecure-skip-tls-verify", global.insecure, "do not verify the server's TLS certificate");
  app.add_option("--config", global.config,
                 "config file (YAML: server, token, ca); default ~/.corral/config");

  ApplyOptions apply;
  auto* apply_cmd =
      app.add_subcommand("apply", "create or update objects from manifests (all validated first)");
  repeatable(apply_cmd->add_option("-f,--filename", apply.files, "file, directory or - (repeatable)"))
      ->required();

  GetOptions get;
  std::string watch_timeout;
  auto* get_cmd = app.add_subcommand("get", "list objects as a table, or print them as yaml, json or names");
  get_cmd->add_option("args", get.args,
                      "KIND[,KIND...] [NAME...] | KIND/NAME...  e.g. pools, vm web-1, pools,vmsets, vm/web-1")
      ->required();
  get_cmd->add_option("-o,--output", get.output, "output format: wide | yaml | json | name");
  get_cmd->add_option("-l,--selector", get.label_selector, "label selector, e.g. app=web,tier!=db");
  get_cmd->add_option("--field-selector", get.field_selector, "field selector, e.g. spec.nodeName=host-1");
  get_cmd->add_flag("-w,--watch", get.watch, "after listing, print a row for every change");
  get_cmd->add_flag("--show-labels", get.show_labels, "add a LABELS column");
  get_cmd->add_flag("--no-headers", get.no_headers, "print the rows without the header");
  get_cmd->add_option("--sort-by", get.sort_by,
                      "sort by a field, e.g. .metadata.creationTimestamp or {.status.phase}");
  get_cmd->add_option("--watch-timeout", watch_timeout,
                      "stop watching after this long (e.g. 2s, 1m); default: until interrupted");

  DescribeOptions describe;
  auto* describe_cmd =
      app.add_subcommand("describe", "show one object in detail, with its conditions and recent events");
  describe_cmd->add_option("args", describe.args, "KIND NAME [NAME...]")->required();

  DeleteOptions del;
  auto* delete_cmd = app.add_subcommand("delete", "delete objects by manifest (-f) or by KIND NAME...");
  repeatable(delete_cmd->add_option("-f,--filename", del.files, "file, directory or - (repeatable)"));
  delete_cmd->add_option("args", del.args, "KIND NAME [NAME...]");

  DiffOptions diff;
  auto* diff_cmd = app.add_subcommand(
      "diff", "show what apply would change (exit 0: no difference, 1: differences, 2: error)");
  repeatable(diff_cmd->add_option("-f,--filename", diff.files, "file, directory or - (repeatable)"))
      ->required();

  TopOptions top;
  auto* top_cmd = app.add_subcommand("top", "show measured CPU and memory use of nodes or VMs");
  top_cmd->add_option("args", top.args, "nodes|vms [NAME...]  e.g. top nodes, top vms web-1")->required();
  top_cmd->add_option("-l,--selector", top.label_selector, "label selector, e.g. app=web");
  top_cmd->add_option("--sort-by", top.sort_by, "cpu | memory: highest first (default: by name)");

  CordonOptions cordon;
  auto* cordon_cmd = app.add_subcommand("cordon", "mark nodes unschedulable: nothing new is placed there");
  cordon_cmd->add_option("nodes", cordon.nodes, "NODE...")->required();
  CordonOptions uncordon{{}, false};
  auto* uncordon_cmd = app.add_subcommand("uncordon", "mark nodes schedulable again");
  uncordon_cmd->add_option("nodes", uncordon.nodes, "NODE...")->required();

  DrainOptions drain;
  std::string drain_timeout = "300s";
  auto* drain_cmd = app.add_subcommand(
      "drain", "cordon a node and move every VM off it (made before broken, within disruption "
               "budgets); follow until it is empty");
  drain_cmd->add_option("node", drain.node, "NODE")->required();
  drain_cmd->add_option("--timeout", drain_timeout,
                        "how long to follow the drain: 300s (default), 5m, 1h; 0s: do not wait");

  EditOptions edit;
  auto* edit_cmd = app.add_subcommand(
      "edit", "edit an object in your editor ($CORRAL_EDITOR, $EDITOR or vi) and apply the change");
  edit_cmd->add_option("args", edit.args, "KIND NAME | KIND/NAME")->required();

  PatchOptions patch;
  auto* patch_cmd = app.add_subcommand(
      "patch", "change part of an object with a strategic merge, merge or JSON patch");
  patch_cmd->add_option("args", patch.args, "KIND NAME | KIND/NAME")->required();
  patch_cmd->add_option("-p,--patch", patch.patch, "the patch, JSON or YAML");
  patch_cmd->add_option("--patch-file", patch.patch_file, "a file holding the patch");
  patch_cmd->add_option("--type", patch.type, "strategic (default) | merge | json");

  MetadataOptions label;
  auto* label_cmd = app.add_subcommand("label", "set (key=value) or remove (key-) labels of an object");
  label_cmd->add_option("args", label.args, "KIND NAME key=value... key-...")->required();
  label_cmd->add_flag("--overwrite", label.overwrite, "allow changing a label that has a value");
  MetadataOptions annotate{{}, false, true};
  auto* annotate_cmd =
      app.add_subcommand("annotate", "set (key=value) or remove (key-) annotations of an object");
  annotate_cmd->add_option("args", annotate.args, "KIND NAME key=value... key-...")->required();
  annotate_cmd->add_flag("--overwrite", annotate.overwrite,
                         "allow changing an annotation that has a value");

  ScaleOptions scale;
  auto* scale_cmd = app.add_subcommand("scale", "set the number of replicas of a VMSet");
  scale_cmd->add_option("args", scale.args, "vmset NAME | vmset/NAME")->required();
  scale_cmd->add_option("--replicas", scale.replicas, "the new number of replicas")->required();
  scale_cmd->add_option("--current-replicas", scale.current_replicas,
                        "scale only if it has this many replicas now");

  LogsOptions logs;
  auto* logs_cmd = app.add_subcommand("logs", "print a VM's log, which the controller reads from the agent of the VM's node");
  logs_cmd->add_option("args", logs.args, "[vm] NAME  e.g. logs web-1, logs vm web-1, logs vm/web-1")
      ->required();
  logs_cmd->add_option("--tail", logs.tail, "lines of recent log to show; -1 (default): all");
  logs_cmd->add_flag("-f,--follow", logs.follow,
                     "stream the log as it grows, until interrupted or the server ends the stream "
                     "(the VM deleted or moved, its agent gone, the server's time limit)");

  SimulateOptions simulate;
  auto* simulate_cmd = app.add_subcommand("simulate", "show what the cluster would do, without doing it");
  simulate_cmd->require_subcommand(1);
  auto* simulate_fail_cmd = simulate_cmd->add_subcommand(
      "fail", "if these nodes died now: which VMs move where, which stay Pending, R and tolerance after");
  simulate_fail_cmd->add_option("nodes", simulate.nodes, "NODE...")->required();

  RebalancePlanOptions rebalance_plan;
  std::string rebalance_max_moves;
  auto* rebalance_cmd = app.add_subcommand("rebalance", "the rebalancer: see what it would do");
  rebalance_cmd->require_subcommand(1);
  auto* rebalance_plan_cmd = rebalance_cmd->add_subcommand(
      "plan", "the moves the rebalancer would make in a pool now, and why; writes nothing");
  rebalance_plan_cmd->add_option("pool", rebalance_plan.pool, "POOL")->required();
  rebalance_plan_cmd->add_option(
      "--max-moves", rebalance_max_moves,
      "moves to plan: the pool's maxMovesPerRound (default), a number, or all (until converged)");

  auto* resources_cmd = app.add_subcommand("api-resources", "list the resource types the server serves");

  std::string completion_shell;
  auto* completion_cmd = app.add_subcommand(
      "completion", "print a shell completion script: source <(corralctl completion bash)");
  completion_cmd->add_option("shell", completion_shell, "bash | zsh")->required();

  VersionOptions version;
  auto* version_cmd = app.add_subcommand("version", "print the client and server versions");
  version_cmd->add_flag("--client", version.client_only, "print the client version only");

  // Every verb's --help names the global flags too (they may come after it).
  for (CLI::App* sub : app.get_subcommands({})) {
    sub->footer(
        "Global flags (before or after the verb): --server URL[,URL...], --token-file FILE, "
        "--ca FILE, --insecure-skip-tls-verify, --config FILE; see 'corralctl --help'.");
  }

  try {
    app.parse(kubectl_style_args(argc, argv));
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
    if (app.get_subcommands().empty()) {
      // CLI11 only says "A subcommand is required"; name the word it did not know.
      if (std::string word = first_bare_word(argc, argv); !word.empty()) {
        err << "error: unknown command \"" << word
            << "\" for \"corralctl\"\nSee 'corralctl --help' for usage.\n";
        return kExitError;
      }
    }
    const std::string verb = parsed_verb(app);
    const std::string help = verb.empty() ? "corralctl --help" : "corralctl " + verb + " --help";
    err << "error: " << friendly_parse_error(app, e) << "\nSee '" << help << "' for usage.\n";
    return diff_cmd->parsed() ? kExitDiffError : kExitError;
  }

  if (!watch_timeout.empty()) {
    auto parsed = parse_duration_flag("--watch-timeout", watch_timeout);
    if (!parsed) {
      print_error(err, parsed.error());
      return kExitError;
    }
    get.watch_timeout = *parsed;
  }

  if (completion_cmd->parsed()) {
    // Needs no cluster: answered before the client configuration is read.
    std::vector<std::string> verbs;
    for (const CLI::App* sub : app.get_subcommands({})) verbs.push_back(sub->get_name());
    auto script = completion_script(completion_shell, verbs);
    if (!script) {
      print_error(err, script.error());
      return kExitError;
    }
    out << *script;
    return kExitOk;
  }

  bool is_diff = diff_cmd->parsed();
  auto config = resolve_client_config(global);
  if (!config) {
    print_error(err, config.error());
    return is_diff ? kExitDiffError : kExitError;
  }
  std::unique_ptr<ResourceClient> client =
      factory ? factory(*config) : std::make_unique<HttpResourceClient>(*config);
  Context ctx{*client, in, out, err, RealClock::instance()};

  if (apply_cmd->parsed()) return run_apply(ctx, apply);
  if (get_cmd->parsed()) return run_get(ctx, get);
  if (describe_cmd->parsed()) return run_describe(ctx, describe);
  if (delete_cmd->parsed()) return run_delete(ctx, del);
  if (is_diff) return run_diff(ctx, diff);
  if (top_cmd->parsed()) return run_top(ctx, top);
  if (cordon_cmd->parsed()) return run_cordon(ctx, cordon);
  if (uncordon_cmd->parsed()) return run_cordon(ctx, uncordon);
  if (drain_cmd->parsed()) {
    auto timeout = parse_duration_flag("--timeout", drain_timeout);
    if (!timeout) {
      print_error(ctx.err, timeout.error());
      return kExitError;
    }
    drain.timeout = std::chrono::ceil<std::chrono::seconds>(*timeout);
    return run_drain(ctx, drain);
  }
  if (logs_cmd->parsed()) return run_logs(ctx, logs);
  if (patch_cmd->parsed()) return run_patch(ctx, patch);
  if (edit_cmd->parsed()) {
    const std::string editor = default_editor();
    edit.run_editor = [&editor](const std::string& file) { return run_editor_process(editor, file); };
    if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) edit.temp_dir = tmp;
    return run_edit(ctx, edit);
  }
  if (label_cmd->parsed()) return run_label(ctx, label);
  if (annotate_cmd->parsed()) return run_label(ctx, annotate);
  if (scale_cmd->parsed()) return run_scale(ctx, scale);
  if (simulate_fail_cmd->parsed()) return run_simulate_fail(ctx, simulate);
  if (rebalance_plan_cmd->parsed()) {
    if (rebalance_max_moves == "all") {
      rebalance_plan.max_moves = kUnlimitedMoves;
    } else if (!rebalance_max_moves.empty()) {
      char* end = nullptr;
      const long n = std::strtol(rebalance_max_moves.c_str(), &end, 10);
      if (*end != '\0' || n < 0 || n > 1'000'000) {
        print_error(ctx.err, make_error(ErrorCode::kBadRequest,
                                        "--max-moves \"" + rebalance_max_moves +
                                            "\": want a number of moves, or all"));
        return kExitError;
      }
      rebalance_plan.max_moves = static_cast<int32_t>(n);
    }
    return run_rebalance_plan(ctx, rebalance_plan);
  }
  if (resources_cmd->parsed()) return run_api_resources(ctx);
  if (version_cmd->parsed()) return run_version(ctx, version);
  print_error(err, make_error(ErrorCode::kBadRequest, "no command given; see 'corralctl --help'"));
  return kExitError;
}

}  // namespace corral::cli
