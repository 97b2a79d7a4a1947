// Sign up and log in. Errors from {"detail"} are shown next to the field they concern.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { session } from '../store.js';
import { Page, navigate } from '../ui.jsx';

/// Which field a backend message is about: "password", "email", or null (the whole form).
export function fieldOf(detail = '') {
  const d = detail.toLowerCase();
  if (d.includes('incorrect email or password')) return 'password';
  if (d.includes('password')) return 'password';
  if (d.includes('email')) return 'email';
  return null;
}

function safeNext(next) {
  return next && next.startsWith('#/') ? next : '#/';
}

function Field({ id, label, type, value, onInput, error, autocomplete, hint }) {
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && <p class="hint" id={`${id}-hint`}>{hint}</p>}
      <input id={id} name={id} type={type} value={value} required autoComplete={autocomplete}
        aria-invalid={error ? 'true' : undefined} aria-describedby={describedBy}
        onInput={(e) => onInput(e.currentTarget.value)} />
      {error && <p class="field-error" id={`${id}-error`} role="alert">{error}</p>}
    </div>
  );
}

async function logIn(email, password) {
  const r = await api('/api/auth/login', { method: 'POST', body: { email, password } });
  session.set(r.access_token, r.user);
}

function AuthForm({ mode, next }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    setErrors({});
    setBusy(true);
    try {
      if (mode === 'register') {
        const body = { email, password };
        if (name.trim()) body.full_name = name.trim();
        await api('/api/auth/register', { method: 'POST', body });
      }
      await logIn(email, password);
      navigate(safeNext(next));
    } catch (e) {
      const f = fieldOf(e.detail);
      setErrors(f ? { [f]: e.detail } : { form: e.detail || e.message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      {mode === 'register' && (
        <div class="field">
          <label for="full_name">Your name (optional)</label>
          <input id="full_name" name="full_name" type="text" value={name} autoComplete="name"
            onInput={(e) => setName(e.currentTarget.value)} />
        </div>
      )}
      <Field id="email" label="Email" type="email" value={email} onInput={setEmail} error={errors.email}
        autocomplete="email" />
      <Field id="password" label="Password" type="password" value={password} onInput={setPassword}
        error={errors.password} autocomplete={mode === 'register' ? 'new-password' : 'current-password'}
        hint={mode === 'register' ? 'At least 8 characters; not a common password and not your email.' : undefined} />
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Please wait…' : mode === 'register' ? 'Create my account' : 'Log in'}
      </button>
    </form>
  );
}

export function Login({ next }) {
  const q = next ? `?next=${encodeURIComponent(next)}` : '';
  return (
    <Page title="Log in">
      {next && next.startsWith('#/vote') && <p class="notice">Log in first, then you go straight to your ballot.</p>}
      <AuthForm mode="login" next={next} />
      <p>New here? <a href={`#/register${q}`}>Create an account</a></p>
    </Page>
  );
}

export function Register({ next }) {
  const q = next ? `?next=${encodeURIComponent(next)}` : '';
  return (
    <Page title="Create an account">
      <AuthForm mode="register" next={next} />
      <p>Already have an account? <a href={`#/login${q}`}>Log in</a></p>
    </Page>
  );
}
