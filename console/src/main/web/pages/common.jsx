// Small shared pieces: the API error line, a modal dialog, a busy-aware button.
import { useState } from 'preact/hooks';

/** An API error exactly as the server words it ("code: message"). */
export function ErrorLine({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.code}: {error.message}</p>;
}

/** A modal dialog: title, content, and the caller's buttons. */
export function Modal({ title, children, onClose }) {
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-label={title}>
        <h3>{title}</h3>
        {children}
      </div>
    </div>
  );
}

/**
 * Runs an async action with a busy flag and an error; returns [run, busy, error, setError].
 * run(fn) resolves to fn's value, or undefined after showing the error.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error, setError];
}
