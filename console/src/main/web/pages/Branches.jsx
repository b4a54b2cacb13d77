// Branches tab: the list (ref, status, compute size, created, expiry, protected, sizes, connection
// string) and the actions: create, reset, restore to a time, start, stop, resize, protect, delete.
import { useState } from 'preact/hooks';
import { api, branchPath, tenantPath } from '../api.js';
import { bytes, isoToUtcInput, status, time, utcInputToIso } from '../format.js';
import { ErrorLine, Modal, useAction } from './common.jsx';

const SIZES = ['xs', 's', 'm', 'l'];

function CopyButton({ text }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      window.prompt('Copy the connection string', text);
    }
  };
  return <button class="small" onClick={copy} title="Copy">{done ? 'Copied' : 'Copy'}</button>;
}

function CreateDialog({ tenant, branches, onClose, onDone }) {
  const [ref, setRef] = useState('');
  const [parent, setParent] = useState(branches.find((b) => !b.parent)?.ref || 'main');
  const [point, setPoint] = useState('now');
  const [at, setAt] = useState('');
  const [lsn, setLsn] = useState('');
  const [ttl, setTtl] = useState('');
  const [suspendAfter, setSuspendAfter] = useState('');
  const [size, setSize] = useState('s');
  const [schemaOnly, setSchemaOnly] = useState(false);
  const [start, setStart] = useState(false);
  const [run, busy, error] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const body = { ref, parent, size, schema_only: schemaOnly, start };
    if (ttl) body.ttl = ttl;
    if (suspendAfter) body.suspend_after = suspendAfter;
    if (point === 'time') body.at = utcInputToIso(at);
    if (point === 'lsn') body.lsn = lsn;
    const r = await run(() => api('POST', `${tenantPath(tenant)}/branches`, body));
    if (r) onDone();
  };
  return (
    <Modal title="Create branch" onClose={onClose}>
      <form onSubmit={submit} class="grid">
        <label>Name <input name="ref" value={ref} onInput={(e) => setRef(e.target.value)} placeholder="feat/login" required /></label>
        <label>Parent
          <select name="parent" value={parent} onChange={(e) => setParent(e.target.value)}>
            {branches.map((b) => <option value={b.ref}>{b.ref}</option>)}
          </select>
        </label>
        <fieldset>
          <legend>From the parent's</legend>
          <label class="inline"><input type="radio" name="point" checked={point === 'now'} onChange={() => setPoint('now')} /> latest state</label>
          <label class="inline"><input type="radio" name="point" checked={point === 'time'} onChange={() => setPoint('time')} /> state at a time</label>
          <label class="inline"><input type="radio" name="point" checked={point === 'lsn'} onChange={() => setPoint('lsn')} /> state at an LSN</label>
          {point === 'time' && <label>Time (UTC) <input type="datetime-local" step="1" name="at" value={at} onInput={(e) => setAt(e.target.value)} required /></label>}
          {point === 'lsn' && <label>LSN <input name="lsn" value={lsn} onInput={(e) => setLsn(e.target.value)} placeholder="0/16B3748" required /></label>}
        </fieldset>
        <label>TTL <input name="ttl" value={ttl} onInput={(e) => setTtl(e.target.value)} placeholder="e.g. 4h, 7d (empty: never)" /></label>
        <label>Suspend after <input name="suspend_after" value={suspendAfter} onInput={(e) => setSuspendAfter(e.target.value)}
          placeholder="idle time before scale to zero, e.g. 30s, 1h; 0 = never (empty: 5m)" /></label>
        <label>Compute size
          <select name="size" value={size} onChange={(e) => setSize(e.target.value)}>
            {SIZES.map((s) => <option value={s}>{s}</option>)}
          </select>
        </label>
        <label class="inline"><input type="checkbox" name="schema_only" checked={schemaOnly} onChange={(e) => setSchemaOnly(e.target.checked)} /> Schema only (no rows)</label>
        <label class="inline"><input type="checkbox" name="start" checked={start} onChange={(e) => setStart(e.target.checked)} /> Start a compute</label>
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
        </div>
      </form>
    </Modal>
  );
}

function RestoreDialog({ tenant, branch, window: win, onClose, onDone }) {
  const earliest = win && win.earliest_restorable_time;
  const now = new Date().toISOString();
  const [at, setAt] = useState(isoToUtcInput(now));
  const [keepAs, setKeepAs] = useState('');
  const [run, busy, error] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const body = { at: utcInputToIso(at) };
    if (keepAs) body.keep_as = keepAs;
    const r = await run(() => api('POST', `${branchPath(tenant, branch.ref)}/restore`, body));
    if (r) onDone(r);
  };
  return (
    <Modal title={`Restore ${branch.ref} to a time`} onClose={onClose}>
      <form onSubmit={submit} class="grid">
        <p data-testid="restorable-window">Restorable window: {earliest ? time(earliest) : 'the branch start'} to now ({time(now)}).
          {win && win.earliest_restorable_lsn && <span class="muted"> Earliest LSN {win.earliest_restorable_lsn}.</span>}</p>
        <label>Time (UTC)
          <input type="datetime-local" step="1" name="at" value={at} onInput={(e) => setAt(e.target.value)}
            min={earliest ? isoToUtcInput(earliest) : undefined} max={isoToUtcInput(now)} required />
        </label>
        <label>Keep the current state as <input name="keep_as" value={keepAs} onInput={(e) => setKeepAs(e.target.value)}
          placeholder={`${branch.ref}-before-restore-… (default)`} /></label>
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Restoring…' : 'Restore'}</button>
        </div>
      </form>
    </Modal>
  );
}

function DeleteDialog({ tenant, branch, onClose, onDone }) {
  const [typed, setTyped] = useState('');
  const [recursive, setRecursive] = useState(false);
  const [run, busy, error] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const r = await run(() => api('DELETE', `${branchPath(tenant, branch.ref)}${recursive ? '?recursive=true' : ''}`));
    if (r) onDone();
  };
  return (
    <Modal title={`Delete ${branch.ref}`} onClose={onClose}>
      <form onSubmit={submit} class="grid">
        <p>This deletes the branch, its compute and its history. Type <strong>{branch.ref}</strong> to confirm.</p>
        <input name="confirm" value={typed} onInput={(e) => setTyped(e.target.value)} />
        <label class="inline"><input type="checkbox" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} /> Also its child branches</label>
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="danger" disabled={busy || typed !== branch.ref}>Delete</button>
        </div>
      </form>
    </Modal>
  );
}

function Row({ tenant, b, onDialog, act }) {
  const st = status(b);
  const state = b.endpoint && b.endpoint.state;
  // a suspended compute (scale to zero) is down until a connection wakes it: Start wakes it now
  const running = state && state !== 'stopped' && state !== 'suspended';
  // while suspended there is no compute address, but the proxy's connection string wakes it
  const uri = b.endpoint?.uri || (state === 'suspended' ? b.endpoint.connection_string : null);
  return (
    <tr data-testid={`branch-${b.ref}`}>
      <td><strong>{b.ref}</strong>{b.parent && <div class="muted">from {b.parent}</div>}</td>
      <td><span class="nowrap"><span class={`dot ${st.toLowerCase()}`} /> <span data-testid="status">{st}</span></span>
        {b.endpoint?.suspend_after && <div class="muted">suspends after {b.endpoint.suspend_after === '0' ? 'never' : b.endpoint.suspend_after}</div>}</td>
      <td>
        <select aria-label="Compute size" value={b.endpoint?.size || b.size}
          onChange={(e) => act(() => api('POST', `${branchPath(tenant, b.ref)}/endpoint/resize`, { size: e.target.value }))}>
          {SIZES.map((s) => <option value={s}>{s}</option>)}
        </select>
      </td>
      <td>{time(b.created_at)}</td>
      <td>{b.expires_at ? time(b.expires_at) : '—'}</td>
      <td>{b.protected ? 'yes' : 'no'}</td>
      <td>{bytes(b.logical_size_bytes)}</td>
      <td>{bytes(b.physical_size_bytes)}</td>
      <td class="conn">{uri ? <><code data-testid="uri">{uri}</code> <CopyButton text={uri} /></> : '—'}</td>
      <td class="actions">
        {running
          ? <button class="small" onClick={() => act(() => api('POST', `${branchPath(tenant, b.ref)}/endpoint/stop`))}>Stop</button>
          : <button class="small" onClick={() => act(() => api('POST', `${branchPath(tenant, b.ref)}/endpoint/start`, {}))}>Start</button>}
        {b.parent && <button class="small" onClick={() => act(() => api('POST', `${branchPath(tenant, b.ref)}/reset`))}>Reset</button>}
        <button class="small" onClick={() => onDialog({ kind: 'restore', branch: b })}>Restore</button>
        {b.parent && <button class="small" onClick={() => act(() => api('POST', `${branchPath(tenant, b.ref)}/protect`, { protected: !b.protected }))}>
          {b.protected ? 'Unprotect' : 'Protect'}</button>}
        <button class="small danger" onClick={() => onDialog({ kind: 'delete', branch: b })}>Delete</button>
      </td>
    </tr>
  );
}

export function Branches({ tenant, branches, retention, reload }) {
  const [dialog, setDialog] = useState(null);
  const [notice, setNotice] = useState(null);
  const [run, busy, error] = useAction();
  const act = async (fn) => {
    setNotice(null);
    await run(fn);
    await reload();
  };
  const windowOf = (ref) => retention && retention.branches && retention.branches.find((w) => w.ref === ref);
  const done = async (msg) => {
    setDialog(null);
    if (msg) setNotice(msg);
    await reload();
  };
  return (
    <div>
      <div class="toolbar">
        <button class="primary" onClick={() => setDialog({ kind: 'create' })}>Create branch</button>
        <button onClick={reload}>Refresh</button>
        {busy && <span class="muted">Working…</span>}
      </div>
      <ErrorLine error={error} />
      {notice && <p class="notice" role="status">{notice}</p>}
      <table data-testid="branches">
        <thead>
          <tr><th>Branch</th><th>Status</th><th>Compute size</th><th>Created</th><th>Expires</th><th>Protected</th>
            <th>Logical size</th><th>Physical size</th><th>Connection string</th><th>Actions</th></tr>
        </thead>
        <tbody>
          {branches.map((b) => <Row key={b.ref} tenant={tenant} b={b} onDialog={setDialog} act={act} />)}
        </tbody>
      </table>
      {dialog?.kind === 'create' && <CreateDialog tenant={tenant} branches={branches} onClose={() => setDialog(null)} onDone={() => done()} />}
      {dialog?.kind === 'restore' && <RestoreDialog tenant={tenant} branch={dialog.branch} window={windowOf(dialog.branch.ref)}
        onClose={() => setDialog(null)}
        onDone={(r) => done(`Restored ${r.branch.ref} to ${r.lsn}; the state before is kept as ${r.kept_as.ref}.`)} />}
      {dialog?.kind === 'delete' && <DeleteDialog tenant={tenant} branch={dialog.branch} onClose={() => setDialog(null)} onDone={() => done()} />}
    </div>
  );
}
