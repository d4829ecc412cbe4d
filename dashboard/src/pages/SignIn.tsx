import { useEffect, useState, type FormEvent } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { navigate, useLocation } from "../router/router";
import { ErrorView } from "../ui/states";
import { useAction } from "../ui/useApiData";
import { useT } from "../i18n/i18n";
import { Preferences } from "../ui/Layout";

/** Only local paths may be landed on after sign-in (the server checks this too). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/sign-in")) return "/";
  return next;
}

export default function SignIn() {
  const { api, apiBase, adopt, state } = useSession();
  const { query } = useLocation();
  const next = safeNext(query.get("next"));
  const [devLogin, setDevLogin] = useState<"probing" | "yes" | "no">("probing");
  const [login, setLogin] = useState("");
  const t = useT();

  useEffect(() => {
    document.title = `${t.signIn.title} · Miyabi`;
  }, [t]);

  // The dev login exists only in development: an empty login is 422 there, 404 elsewhere.
  useEffect(() => {
    let live = true;
    api.POST("/auth/dev-login", { body: { login: "" } }).then(
      ({ response }) => live && setDevLogin(response.status === 404 || response.status === 405 ? "no" : "yes"),
      () => live && setDevLogin("no"),
    );
    return () => {
      live = false;
    };
  }, [api]);

  const signIn = useAction(async (l: string) => {
    const session = await unwrap(api.POST("/auth/dev-login", { body: { login: l } }));
    await adopt(session);
    navigate(next, { replace: true });
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void signIn.exec(login.trim());
  };

  const githubHref = `${apiBase}/auth/github?redirect=${encodeURIComponent(next)}`;
  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <h1>{t.signIn.heading}</h1>
        <p className="muted">{t.app.tagline}</p>
        {state.status === "signed-out" && state.expired && (
          <p className="warning" role="alert">
            {t.session.ended}
          </p>
        )}
        {state.status === "error" && <ErrorView error={state.error} title={t.session.loadFailed} />}
        <a className="button primary wide" href={githubHref}>
          {t.signIn.withGitHub}
        </a>
        {devLogin === "yes" && (
          <form onSubmit={submit} className="devlogin" aria-label={t.signIn.devHeading}>
            <h2>{t.signIn.devHeading}</h2>
            <p className="muted small">{t.signIn.devHelp}</p>
            <label htmlFor="dev-login">{t.signIn.login}</label>
            <input
              id="dev-login"
              name="login"
              autoComplete="username"
              required
              value={login}
              onChange={(e) => setLogin(e.target.value)}
              placeholder="alice"
            />
            <button type="submit" disabled={signIn.pending || login.trim() === ""}>
              {signIn.pending ? t.signIn.submitting : t.signIn.submit}
            </button>
            {signIn.error && <ErrorView error={signIn.error} title={t.signIn.failed} />}
          </form>
        )}
        <Preferences />
      </div>
    </main>
  );
}
