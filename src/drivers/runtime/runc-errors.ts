import {
  CannotExecuteError,
  CommandNotFoundError,
  type HyperboxError,
  InternalError,
} from '../../core/errors.ts';

/**
 * runc reports failures as logrus lines on stderr (`time=".." level=error msg="runc create failed: .."`). The
 * message, unquoted; the raw text when it is not in that form.
 */
export function runcMessage(stderr: string): string {
  const messages: string[] = [];
  for (const m of stderr.matchAll(/level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/g)) {
    messages.push(m[1]!.replace(/\\(.)/g, '$1'));
  }
  return messages.length > 0 ? messages.join('; ') : stderr.trim();
}

/**
 * The error a failed `runc create`/`runc exec` becomes, as docker classifies it: the process's executable missing
 * (127), not executable (126), anything else an internal failure. runc checks the executable before `start`, so
 * these surface at create time.
 */
export function classifyStartFailure(stderr: string, context: string): HyperboxError {
  const message = runcMessage(stderr);
  const text = `${context}: ${message}`;
  // Only failures about the process's executable (`exec: "name": ...`); a missing mount source also says "no
  // such file or directory" but is the engine's problem, not the command's.
  if (!/exec: "/.test(message)) return new InternalError(text);
  if (/executable file not found|no such file or directory/i.test(message))
    return new CommandNotFoundError(text);
  if (/permission denied|exec format error|is a directory/i.test(message))
    return new CannotExecuteError(text);
  return new InternalError(text);
}
