#include "cli/completion.h"

#include "api/kinds.h"

namespace corral::cli {

namespace {

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Bash's, also loaded by zsh through bashcompinit.
constexpr const char* kBashBody = R"BASH(
# The cluster's objects of one kind, by name ("vmset/web" -> "web"), asked
# with the connection flags given on the command line.
__corralctl_names() {
  corralctl "${__corralctl_conn[@]}" get "$1" -o name 2>/dev/null | sed 's#.*/##'
}

_corralctl() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
  local verb="" kind="" i
  __corralctl_conn=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --server|--token-file|--ca|--config)
        __corralctl_conn+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}"); ((i++)); continue ;;
      -o|--output|-l|--selector|--field-selector|--sort-by|-p|--patch|--patch-file|--type|--replicas|--current-replicas|--tail|--timeout|--watch-timeout|--max-moves)
        ((i++)); continue ;;
      -*) continue ;;
    esac
    if [ -z "$verb" ]; then verb="${COMP_WORDS[i]}"; elif [ -z "$kind" ]; then kind="${COMP_WORDS[i]}"; fi
  done
  case "$prev" in
    -f|--filename|--patch-file|--token-file|--ca|--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "wide yaml json name" -- "$cur")); return ;;
    --type) COMPREPLY=($(compgen -W "strategic merge json" -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "--server --token-file --ca --config --insecure-skip-tls-verify --help" -- "$cur"))
    return
  fi
  if [ -z "$verb" ]; then COMPREPLY=($(compgen -W "$__corralctl_verbs" -- "$cur")); return; fi
  case "$verb" in
    get|describe|delete|edit|patch|label|annotate)
      if [ -z "$kind" ]; then COMPREPLY=($(compgen -W "$__corralctl_kinds" -- "$cur")); return; fi
      COMPREPLY=($(compgen -W "$(__corralctl_names "$kind")" -- "$cur")) ;;
    scale)
      if [ -z "$kind" ]; then COMPREPLY=($(compgen -W "vmset vmsets" -- "$cur")); return; fi
      COMPREPLY=($(compgen -W "$(__corralctl_names vmsets)" -- "$cur")) ;;
    cordon|uncordon|drain) COMPREPLY=($(compgen -W "$(__corralctl_names nodes)" -- "$cur")) ;;
    logs) COMPREPLY=($(compgen -W "$(__corralctl_names vms)" -- "$cur")) ;;
    top) [ -z "$kind" ] && COMPREPLY=($(compgen -W "nodes vms" -- "$cur")) ;;
    rebalance) [ -z "$kind" ] && COMPREPLY=($(compgen -W "plan" -- "$cur")) ;;
    simulate) [ -z "$kind" ] && COMPREPLY=($(compgen -W "fail" -- "$cur")) ;;
    completion) [ -z "$kind" ] && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    apply|diff) COMPREPLY=($(compgen -W "-f" -- "$cur")) ;;
  esac
}
complete -F _corralctl corralctl
)BASH";

}  // namespace

Result<std::string> completion_script(const std::string& shell, const std::vector<std::string>& verbs) {
  if (shell != "bash" && shell != "zsh")
    return make_error(ErrorCode::kBadRequest,
                      "completion for \"" + shell + "\": corralctl completes bash and zsh");
  std::vector<std::string> kinds;
  for (const KindInfo& k : all_kinds()) {
    kinds.push_back(k.plural);
    kinds.push_back(k.singular);
  }
  std::string out = "# corralctl " + shell + " completion: source <(corralctl completion " + shell + ")\n";
  if (shell == "zsh") out += "autoload -U +X bashcompinit && bashcompinit\n";
  out += "__corralctl_verbs=\"" + joined(verbs) + "\"\n";
  out += "__corralctl_kinds=\"" + joined(kinds) + "\"\n";
  out += kBashBody;
  return out;
}

}  // namespace corral::cli
