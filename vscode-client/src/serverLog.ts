// The server logs to stderr as `DATE TIME LEVEL logger: message`; each line goes to the
// output channel at its own level (the channel adds its own time). Lines without a level,
// like a traceback's, keep the level of the line before.

import type { Readable } from "node:stream";
import * as readline from "node:readline";

export type Level = "error" | "warn" | "info" | "debug" | "trace";

const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (ERROR|CRITICAL|WARNING|INFO|DEBUG|TRACE) (.*)$/;
const LEVELS: Record<string, Level> = {
  CRITICAL: "error",
  ERROR: "error",
  WARNING: "warn",
  INFO: "info",
  DEBUG: "debug",
  TRACE: "trace",
};

export class LogRouter {
  private level: Level = "info";

  route(line: string): { level: Level; text: string } {
    const match = LINE.exec(line);
    if (match === null) {
      return { level: this.level, text: line };
    }
    this.level = LEVELS[match[1]];
    return { level: this.level, text: match[2] };
  }
}

/** Where the lines go: a LogOutputChannel has one method per level. */
export type LevelSink = Record<Level, (text: string) => void>;

export function pipeServerLog(input: Readable, sink: LevelSink): void {
  const router = new LogRouter();
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on("line", (line) => {
    const { level, text } = router.route(line);
    sink[level](text);
  });
}
