/** Where a waiting command shows what it waits for: one live line, on stderr so stdout stays data. */
export interface Progress {
  update(line: string): void;
  /** Ends the live line; `line`, when given, is left in its place. */
  done(line?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;

/** A spinner on a terminal; plain lines, one per change, when stderr is a pipe or a CI log. */
export function progressOn(stream: NodeJS.WriteStream): Progress {
  return stream.isTTY ? spinner(stream) : plainLines(stream);
}

function plainLines(stream: NodeJS.WriteStream): Progress {
  let last = '';
  return {
    update(line) {
      if (line === last) return;
      last = line;
      stream.write(`${line}\n`);
    },
    done(line) {
      if (line !== undefined && line !== last) stream.write(`${line}\n`);
    },
  };
}

function spinner(stream: NodeJS.WriteStream): Progress {
  let text = '';
  let frame = 0;
  const draw = (): void => {
    stream.write(`\r\x1b[K${FRAMES[frame % FRAMES.length] ?? ''} ${text}`);
    frame += 1;
  };
  let timer: NodeJS.Timeout | null = null;
  return {
    update(line) {
      text = line;
      draw();
      timer ??= setInterval(draw, FRAME_MS);
    },
    done(line) {
      if (timer) clearInterval(timer);
      timer = null;
      stream.write(`\r\x1b[K${line === undefined ? '' : `${line}\n`}`);
    },
  };
}
