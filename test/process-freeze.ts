// Freezing a server (SIGSTOP) to simulate a hung one, for fault-injection tests.
//
// kill(SIGSTOP) returns before the process has stopped: the kernel wakes one thread to begin the
// group stop and only then stops the others. On a busy 2-core machine the Go runtime's other
// threads (Prometheus, kube-apiserver, etcd) can still accept and answer a request in that window,
// which made "the hung server answered" flaky in CI. freeze() therefore waits until the kernel
// reports every thread as stopped ('T' in /proc/<pid>/task/<tid>/stat), polling the condition
// rather than sleeping a guessed time.
import { readdirSync, readFileSync } from 'fs';

const STOPPED = new Set(['T', 't']);

function threadStates(pid: number): string[] {
  const states: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // "tid (comm) S ...": comm may contain spaces and parentheses, so read after the last ')'.
      states.push(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    } catch {
      // The thread exited between readdir and read: it cannot answer anything.
    }
  }
  return states;
}

/** SIGSTOPs `pid` and resolves once every thread of it has stopped. */
export async function freeze(pid: number, timeoutMs = 10_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = threadStates(pid);
    if (states.length > 0 && states.every((state) => STOPPED.has(state))) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within ${timeoutMs} ms after SIGSTOP (thread states: ${states.join('')})`);
    // A 1 ms poll leaves the CPU to the threads that still have to stop.
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

/** SIGCONTs a process frozen by freeze(); a process that has exited already is left alone. */
export function thaw(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
