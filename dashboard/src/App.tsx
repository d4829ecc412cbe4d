import { Suspense, useEffect } from "react";
import { SessionProvider, useSession } from "./session/session";
import { matchPath, navigate, useLocation } from "./router/router";
import { routes } from "./routes";
import { Layout } from "./ui/Layout";
import { LiveEvents } from "./events/LiveEvents";
import { Loading, Page } from "./ui/states";
import SignIn, { safeNext } from "./pages/SignIn";
import { I18nProvider, useT } from "./i18n/i18n";

function NotFound() {
  const t = useT();
  return (
    <Page title={t.notFound.title}>
      <p>{t.notFound.body}</p>
    </Page>
  );
}

function Routed() {
  const session = useSession();
  const t = useT();
  const { path, query } = useLocation();

  // Signed out anywhere but the sign-in page: go there, and come back afterwards.
  useEffect(() => {
    if (session.state.status === "signed-out" && path !== "/sign-in") {
      navigate(`/sign-in?next=${encodeURIComponent(path + (query.size ? `?${query}` : ""))}`, { replace: true });
    }
    if (session.state.status === "signed-in" && path === "/sign-in") {
      navigate(safeNext(query.get("next")), { replace: true });
    }
  }, [session.state.status, path, query]);

  switch (session.state.status) {
    case "starting":
      return <Loading what={t.loadingWhat.session} />;
    case "signed-out":
    case "error":
      return <SignIn />;
  }
  if (path === "/sign-in") return <Loading what={t.loadingWhat.session} />;

  let page = <NotFound />;
  for (const r of routes) {
    const params = matchPath(r.path, path);
    if (params && (!r.allowed || r.allowed(session))) {
      page = <r.component params={params} />;
      break;
    }
  }
  return (
    <LiveEvents>
      <Layout>
        <Suspense fallback={<Loading what={t.loadingWhat.page} />}>
          {/* keyed by organization: switching it never shows the previous one's data */}
          <div key={session.me.organization.id}>{page}</div>
        </Suspense>
      </Layout>
    </LiveEvents>
  );
}

export function App() {
  return (
    <I18nProvider>
      <SessionProvider>
        <Routed />
      </SessionProvider>
    </I18nProvider>
  );
}

