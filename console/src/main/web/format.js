// Display helpers: sizes in MB/GB of 2^20/2^30 bytes with one decimal (as the CLI prints them), times in UTC.

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} kB`;
  return `${n} B`;
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

/** Console status of a branch from its endpoint state (Neon's words). */
export function status(branch) {
  const s = branch.endpoint && branch.endpoint.state;
  if (s === 'running') return 'Active';
  if (s === 'provisioning') return 'Provisioning';
  if (s === 'failed') return 'Failed';
  if (s === 'suspended') return 'Suspended';
  return 'Stopped';
}

/** A value of <input type="datetime-local" step="1"> read as UTC -> ISO-8601 instant. */
export function utcInputToIso(value) {
  if (!value) return null;
  const v = value.length === 16 ? `${value}:00` : value;
  return `${v}Z`;
}

/** An ISO instant -> the value of a UTC datetime-local input (seconds precision). */
export function isoToUtcInput(iso) {
  if (!iso) return '';
  return new Date(iso).toISOString().slice(0, 19);
}
