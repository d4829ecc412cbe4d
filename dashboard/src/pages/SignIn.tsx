import { useEffect, useState, type FormEvent } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { navigate, useLocation } from "../router/router";
import { ErrorView } from "../ui/states";
import { useAction } from "../ui/useApiData";

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

  useEffect(() => {
    document.title = "Sign in · Miyabi";
  }, []);

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
        <h1>Sign in to Miyabi</h1>
        <p className="muted">The control plane of your agent society.</p>
        {state.status === "error" && <ErrorView error={state.error} title="Your session could not be loaded" />}
        <a className="button primary wide" href={githubHref}>
          Sign in with GitHub
        </a>
        {devLogin === "yes" && (
          <form onSubmit={submit} className="devlogin" aria-label="Development sign-in">
            <h2>Development sign-in</h2>
            <p className="muted small">Only in development: sign in as any GitHub login known to the local fake GitHub.</p>
            <label htmlFor="dev-login">GitHub login</label>
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
              {signIn.pending ? "Signing in…" : "Sign in"}
            </button>
            {signIn.error && <ErrorView error={signIn.error} title="Sign-in failed" />}
          </form>
        )}
      </div>
    </main>
  );
}
