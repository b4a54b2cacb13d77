// Backups tab: list (name, branch, size, status, backed up at), filter by branch, create, restore to a
// new branch, export (download), delete; schedules (frequency, start, retention, name; create, list, delete).
import { useEffect, useState } from 'preact/hooks';
import { api, tenantPath } from '../api.js';
import { bytes, time, utcInputToIso } from '../format.js';
import { ErrorLine, Modal, useAction } from './common.jsx';

function RestoreDialog({ tenant, backup, onClose, onDone }) {
  const [branch, setBranch] = useState(`${backup.branch}-${backup.id}`);
  const [run, busy, error] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const r = await run(() => api('POST', `${tenantPath(tenant)}/backups/${encodeURIComponent(backup.id)}/restore`, { branch }));
    if (r) onDone(r);
  };
  return (
    <Modal title={`Restore backup ${backup.id} to a new branch`} onClose={onClose}>
      <form onSubmit={submit} class="grid">
        <label>New branch <input name="branch" value={branch} onInput={(e) => setBranch(e.target.value)} required /></label>
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>Restore</button>
        </div>
      </form>
    </Modal>
  );
}

function Schedules({ tenant, branches }) {
  const [list, setList] = useState(null);
  const [form, setForm] = useState({ frequency: 'daily', start: '', retention: '7d', name: '', branch: '' });
  const [run, busy, error] = useAction();
  const load = async () => {
    const l = await run(() => api('GET', `${tenantPath(tenant)}/backup-schedules`));
    if (l) setList(l);
  };
  useEffect(() => {
    load();
  }, [tenant]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const create = async (e) => {
    e.preventDefault();
    const body = { frequency: form.frequency, retention: form.retention };
    if (form.start) body.start = utcInputToIso(form.start);
    if (form.name) body.name = form.name;
    if (form.branch) body.branch = form.branch;
    if (await run(() => api('POST', `${tenantPath(tenant)}/backup-schedules`, body))) await load();
  };
  const del = async (id) => {
    if (await run(() => api('DELETE', `${tenantPath(tenant)}/backup-schedules/${encodeURIComponent(id)}`))) await load();
  };
  return (
    <section>
      <h2>Schedules</h2>
      <form onSubmit={create} class="row-form" data-testid="schedule-form">
        <label>Frequency <input name="frequency" value={form.frequency} onInput={set('frequency')} placeholder="hourly, daily, weekly, monthly or a cron expression" /></label>
        <label>First run (UTC) <input type="datetime-local" step="1" name="start" value={form.start} onInput={set('start')} /></label>
        <label>Retention <input name="retention" value={form.retention} onInput={set('retention')} placeholder="36h, 14d, 8w, 12mo" /></label>
        <label>Name <input name="name" value={form.name} onInput={set('name')} /></label>
        <label>Branch
          <select name="branch" value={form.branch} onChange={set('branch')}>
            <option value="">main (default)</option>
            {branches.map((b) => <option value={b.ref}>{b.ref}</option>)}
          </select>
        </label>
        <button type="submit" disabled={busy}>Create schedule</button>
      </form>
      <ErrorLine error={error} />
      {list && list.length === 0 && <p class="muted">No schedules.</p>}
      {list && list.length > 0 && (
        <table data-testid="schedules">
          <thead><tr><th>Name</th><th>Branch</th><th>Frequency</th><th>Retention</th><th>Next run</th><th>Last run</th><th /></tr></thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.id}>
                <td>{s.name || s.id}</td><td>{s.branch}</td><td>{s.frequency}</td><td>{s.retention}</td>
                <td>{time(s.next_run_at)}</td><td>{s.last_run_at ? `${time(s.last_run_at)} (${s.last_status})` : '—'}</td>
                <td><button class="small danger" onClick={() => del(s.id)}>Delete</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Backups({ tenant, branches, reload }) {
  const [filter, setFilter] = useState('');
  const [list, setList] = useState(null);
  const [label, setLabel] = useState('');
  const [branch, setBranch] = useState('');
  const [dialog, setDialog] = useState(null);
  const [notice, setNotice] = useState(null);
  const [run, busy, error] = useAction();
  const load = async () => {
    const q = filter ? `?branch=${encodeURIComponent(filter)}` : '';
    const l = await run(() => api('GET', `${tenantPath(tenant)}/backups${q}`));
    if (l) setList(l);
  };
  useEffect(() => {
    load();
  }, [tenant, filter]);
  // a backup in progress: look again every second until none is
  useEffect(() => {
    if (!list || !list.some((b) => b.status === 'in_progress')) return undefined;
    const t = setTimeout(load, 1000);
    return () => clearTimeout(t);
  }, [list]);
  const create = async (e) => {
    e.preventDefault();
    const body = {};
    if (branch) body.branch = branch;
    if (label) body.label = label;
    if (await run(() => api('POST', `${tenantPath(tenant)}/backups`, body))) {
      setLabel('');
      await load();
    }
  };
  const del = async (id) => {
    if (await run(() => api('DELETE', `${tenantPath(tenant)}/backups/${encodeURIComponent(id)}`))) await load();
  };
  return (
    <div>
      <form onSubmit={create} class="row-form" data-testid="backup-form">
        <label>Branch
          <select name="branch" value={branch} onChange={(e) => setBranch(e.target.value)}>
            <option value="">main (default)</option>
            {branches.map((b) => <option value={b.ref}>{b.ref}</option>)}
          </select>
        </label>
        <label>Label <input name="label" value={label} onInput={(e) => setLabel(e.target.value)} /></label>
        <button type="submit" class="primary" disabled={busy}>Create backup</button>
        <label class="right">Filter by branch
          <select name="filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
            <option value="">all branches</option>
            {branches.map((b) => <option value={b.ref}>{b.ref}</option>)}
          </select>
        </label>
      </form>
      <ErrorLine error={error} />
      {notice && <p class="notice" role="status">{notice}</p>}
      {list && list.length === 0 && <p class="muted">No backups.</p>}
      {list && list.length > 0 && (
        <table data-testid="backups">
          <thead><tr><th>Name</th><th>Branch</th><th>Size</th><th>Status</th><th>Backed up at</th><th>LSN</th><th>Expires</th><th>Actions</th></tr></thead>
          <tbody>
            {list.map((b) => (
              <tr key={b.id} data-testid={`backup-${b.id}`}>
                <td>{b.label || b.id}<div class="muted">{b.id} · {b.kind}</div></td>
                <td>{b.branch}</td>
                <td>{bytes(b.size_bytes)}</td>
                <td class={`status-${b.status}`}>{b.status}{b.error && <div class="error">{b.error}</div>}</td>
                <td>{time(b.created_at)}</td>
                <td>{b.lsn || '—'}</td>
                <td>{b.expires_at ? time(b.expires_at) : 'kept until deleted'}</td>
                <td class="actions">
                  {b.status === 'completed' && <button class="small" onClick={() => setDialog(b)}>Restore</button>}
                  {b.status === 'completed' && <a class="button small" href={`${tenantPath(tenant)}/backups/${encodeURIComponent(b.id)}/export`}
                    download={`${tenant}-${b.id}.tar`}>Export</a>}
                  <button class="small danger" onClick={() => del(b.id)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog && <RestoreDialog tenant={tenant} backup={dialog} onClose={() => setDialog(null)} onDone={async (r) => {
        setDialog(null);
        setNotice(`Restored backup ${dialog.id} as branch ${r.ref}.`);
        await reload();
      }} />}
      <Schedules tenant={tenant} branches={branches} />
    </div>
  );
}
