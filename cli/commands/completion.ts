import { Argument, type Command } from 'commander';

/** What the completion scripts offer: each command's name and its long flags, read from the program. */
function vocabulary(program: Command): { commands: string[]; flags: Map<string, string[]> } {
  const global = program.options.map((option) => option.long).filter((flag) => flag !== undefined);
  const flags = new Map<string, string[]>();
  for (const command of program.commands) {
    const own = command.options.map((option) => option.long).filter((flag) => flag !== undefined);
    flags.set(command.name(), [...own, ...global, '--help']);
  }
  return { commands: program.commands.map((command) => command.name()), flags };
}

function bash(program: Command): string {
  const { commands, flags } = vocabulary(program);
  const cases = [...flags].map(([name, list]) => `    ${name}) flags="${list.join(' ')}" ;;`).join('\n');
  return `# timebox completion for bash: source <(timebox completion bash)
_timebox() {
  local current="\${COMP_WORDS[COMP_CWORD]}" flags=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.join(' ')}" -- "$current"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$current")); return ;;
  esac
  COMPREPLY=($(compgen -W "$flags" -- "$current"))
}
complete -o default -F _timebox timebox
`;
}

function zsh(program: Command): string {
  const { commands, flags } = vocabulary(program);
  const described = program.commands
    .map(
      (command) =>
        `    '${command.name()}:${command.description().replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`,
    )
    .join('\n');
  const cases = [...flags].map(([name, list]) => `      ${name}) compadd -- ${list.join(' ')} ;;`).join('\n');
  return `#compdef timebox
# timebox completion for zsh: source <(timebox completion zsh)
_timebox() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
  else
    case "$words[2]" in
${cases}
      completion) compadd -- bash zsh fish ;;
    esac
  fi
}
compdef _timebox timebox
# ${commands.length} commands
`;
}

function fish(program: Command): string {
  const lines = ['# timebox completion for fish: timebox completion fish | source', 'complete -c timebox -f'];
  for (const command of program.commands) {
    const description = command.description().replace(/'/g, "\\'");
    lines.push(`complete -c timebox -n __fish_use_subcommand -a ${command.name()} -d '${description}'`);
    for (const option of [...command.options, ...program.options]) {
      if (option.long === undefined) continue;
      lines.push(
        `complete -c timebox -n '__fish_seen_subcommand_from ${command.name()}' -l ${option.long.slice(2)} -d '${option.description.replace(/'/g, "\\'")}'`,
      );
    }
  }
  lines.push("complete -c timebox -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'");
  return `${lines.join('\n')}\n`;
}

export function completionCommand(program: Command, stdout: NodeJS.WritableStream): void {
  program
    .command('completion')
    .description('Print a shell completion script')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .action((shell: 'bash' | 'zsh' | 'fish') => {
      const scripts = { bash, zsh, fish };
      stdout.write(scripts[shell](program));
    });
}
