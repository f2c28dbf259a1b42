/**
 * Pause durations as people write them in pipelines: "90s", "10m", "1h30m", "2h", or a plain
 * number of seconds (Orca's SpEL may turn any of these into a string of digits).
 */
const DURATION_PATTERN = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds in the duration, or undefined when the text is not a duration. */
export function parseDurationSeconds(text: string | number): number | undefined {
  if (typeof text === 'number') {
    return Number.isInteger(text) && text >= 0 ? text : undefined;
  }
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match || (!match[1] && !match[2] && !match[3])) return undefined;
  const [hours, minutes, seconds] = [match[1], match[2], match[3]].map((part) => Number(part ?? 0));
  return hours * 3600 + minutes * 60 + seconds;
}

/** A short human form: 0s, 45s, 12m, 1h5m, 1h0m30s. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h === 0 && m === 0) return `${s}s`;
  if (h === 0) return s === 0 ? `${m}m` : `${m}m${s}s`;
  return s === 0 ? `${h}h${m}m` : `${h}h${m}m${s}s`;
}
