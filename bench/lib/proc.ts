// CPU and memory of another process from /proc (Linux), so the server under test carries no
// sampling agent of its own: utime+stime from /proc/<pid>/stat (all threads: the inference and
// log-writer workers count too), VmRSS and VmHWM from /proc/<pid>/status.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ on every mainstream Linux build
    }
  }
  return ticksPerSecond;
}

export interface ProcSample {
  /** Monotonic time of the sample, ms. */
  at: number;
  /** utime + stime, ms of CPU. */
  cpuMs: number;
  rssBytes: number;
  /** Peak RSS since start (or since the last resetPeak). */
  hwmBytes: number;
}

export function readProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { at: performance.now(), cpuMs: (ticks * 1000) / clockTicks(), rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (proc(5), clear_refs "5"); false where the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface ProcWindow {
  seconds: number;
  cpuMs: number;
  /** CPU time over wall time: 100 = one core busy. */
  cpuPercent: number;
  rssStartMB: number;
  rssEndMB: number;
  /** Largest of the sampled RSS and VmHWM (reset at start when the kernel allows). */
  rssPeakMB: number;
}

/**
 * Samples a process while a measured step runs. RSS is polled every intervalMs as well as read
 * from VmHWM, as a short spike between two polls still shows in VmHWM.
 */
export class ProcSampler {
  private first: ProcSample | undefined;
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;
  private hwmReset = false;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  start(): this {
    this.hwmReset = resetPeak(this.pid);
    this.first = readProc(this.pid);
    this.peak = this.first.rssBytes;
    this.timer = setInterval(() => {
      try {
        this.peak = Math.max(this.peak, readProc(this.pid).rssBytes);
      } catch {
        // the process ended; stop() reports what was seen
      }
    }, this.intervalMs);
    return this;
  }

  stop(): ProcWindow {
    clearInterval(this.timer);
    const a = this.first;
    if (a === undefined) throw new Error('ProcSampler.stop() before start()');
    const b = readProc(this.pid);
    const peak = Math.max(this.peak, b.rssBytes, this.hwmReset ? b.hwmBytes : 0);
    const seconds = (b.at - a.at) / 1000;
    const cpuMs = b.cpuMs - a.cpuMs;
    return {
      seconds,
      cpuMs,
      cpuPercent: seconds > 0 ? cpuMs / 10 / seconds : 0,
      rssStartMB: a.rssBytes / 1e6,
      rssEndMB: b.rssBytes / 1e6,
      rssPeakMB: peak / 1e6,
    };
  }
}
