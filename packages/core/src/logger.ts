/** The little logging surface core needs; apps pass their own (pino fits it) or get stderr. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that writes one line per message to stderr, for CLIs and tests. */
export const stderrLogger: Logger = {
  info(message, fields) {
    process.stderr.write(`${formatLine('info', message, fields)}\n`);
  },
  warn(message, fields) {
    process.stderr.write(`${formatLine('warn', message, fields)}\n`);
  },
};

function formatLine(level: string, message: string, fields?: Record<string, unknown>): string {
  const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `[${level}] ${message}${extra}`;
}
