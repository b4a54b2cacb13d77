// The branch tree: timelines nested under their parents, with branch points (LSN and time) and
// status colours.
import { status, time } from '../format.js';

function Node({ b, children, byParent }) {
  const kids = byParent.get(b.ref) || [];
  const st = status(b);
  return (
    <li>
      <div class="node" data-testid={`tree-${b.ref}`}>
        <span class={`dot ${st.toLowerCase()}`} title={st} />
        <strong>{b.ref}</strong>
        <span class="muted"> {st}</span>
        {b.parent
          ? <span class="muted"> · from {b.parent} at {b.ancestor_lsn} · {time(b.created_at)}</span>
          : <span class="muted"> · root · {time(b.created_at)}</span>}
        {b.protected && <span class="badge">protected</span>}
      </div>
      {kids.length > 0 && <ul>{kids.map((k) => <Node key={k.ref} b={k} byParent={byParent} />)}</ul>}
      {children}
    </li>
  );
}

export function Tree({ branches }) {
  const refs = new Set(branches.map((b) => b.ref));
  const byParent = new Map();
  const roots = [];
  for (const b of branches) {
    if (b.parent && refs.has(b.parent)) {
      if (!byParent.has(b.parent)) byParent.set(b.parent, []);
      byParent.get(b.parent).push(b);
    } else {
      roots.push(b);
    }
  }
  for (const list of byParent.values()) list.sort((a, b) => a.created_at.localeCompare(b.created_at));
  return (
    <div class="tree" data-testid="tree">
      <p class="legend">
        <span class="dot active" /> Active <span class="dot provisioning" /> Provisioning
        <span class="dot suspended" /> Suspended <span class="dot stopped" /> Stopped
      </p>
      <ul>{roots.map((b) => <Node key={b.ref} b={b} byParent={byParent} />)}</ul>
    </div>
  );
}
