import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { createApi, unwrap, type ApiHandle, type Session } from "../api/client";
import type { components } from "../api/schema";
import { ApiError, toApiError } from "../api/problem";
import { apiBaseFrom } from "../api/base";
import { navigate } from "../router/router";
import { clearDrafts } from "../ui/useDraft";

export type Me = components["schemas"]["MeOut"];

type State =
  | { status: "starting" }
  /** `expired`: the session ended under the user (a refresh failed), not by their sign-out. */
  | { status: "signed-out"; error?: ApiError; expired?: boolean }
  | { status: "signed-in"; me: Me }
  | { status: "error"; error: ApiError };

export interface SessionContext {
  api: ApiHandle["client"];
  apiBase: string;
  state: State;
  /** The signed-in caller; only valid inside signed-in pages. */
  me: Me;
  /** can answers whether the caller holds a permission organization-wide. */
  can: (permission: string) => boolean;
  /** canSomewhere also counts permissions a team role grants on the team's repositories. */
  canSomewhere: (permission: string) => boolean;
  adopt: (session: Session) => Promise<void>;
  reloadMe: () => Promise<void>;
  /** Makes another organization the active one and opens `to` (the overview by default). */
  switchOrganization: (organizationId: string, to?: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionContext | null>(null);

export function useSession(): SessionContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx;
}

/** The signed-in caller's permissions decide which actions are offered at all. */
export function useCan(): SessionContext["can"] {
  return useSession().can;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const apiBase = useMemo(() => apiBaseFrom(document), []);
  const [state, setState] = useState<State>({ status: "starting" });
  const handle = useMemo(
    () => createApi({ baseUrl: apiBase, onSignedOut: () => setState((s) => (s.status === "signed-in" ? { status: "signed-out", expired: true } : { status: "signed-out" })) }),
    [apiBase],
  );
  const api = handle.client;

  const loadMe = useCallback(async () => {
    const me = await unwrap(api.GET("/auth/me"));
    setState({ status: "signed-in", me });
  }, [api]);

  // On start the memory is empty: the refresh cookie, if any, brings the session back.
  useEffect(() => {
    let live = true;
    (async () => {
      const session = await handle.refresh();
      if (!live) return;
      if (!session) {
        setState({ status: "signed-out" });
        return;
      }
      try {
        await loadMe();
      } catch (err) {
        if (live) setState({ status: "error", error: toApiError(err) });
      }
    })();
    return () => {
      live = false;
    };
  }, [handle, loadMe]);

  const adopt = useCallback(
    async (session: Session) => {
      handle.tokens.set(session.access_token);
      await loadMe();
    },
    [handle, loadMe],
  );

  const switchOrganization = useCallback(
    async (organizationId: string, to = "/") => {
      const session = await unwrap(api.POST("/auth/switch-organization", { body: { organization_id: organizationId } }));
      handle.tokens.set(session.access_token);
      await loadMe();
      navigate(to);
    },
    [api, handle, loadMe],
  );

  const signOut = useCallback(async () => {
    try {
      await unwrap(api.POST("/auth/logout"));
    } finally {
      // Signing out on purpose forgets unsent drafts (a shared computer); a session that
      // ends by itself keeps them for the next sign-in.
      clearDrafts();
      handle.tokens.set(null);
      setState({ status: "signed-out" });
      navigate("/sign-in");
    }
  }, [api, handle]);

  const value = useMemo<SessionContext>(() => {
    const me = state.status === "signed-in" ? state.me : (undefined as unknown as Me);
    const perms = new Set(me?.permissions ?? []);
    const teamPerms = new Set(me?.team_permissions ?? []);
    return {
      api,
      apiBase,
      state,
      me,
      can: (p) => perms.has(p),
      canSomewhere: (p) => perms.has(p) || teamPerms.has(p),
      adopt,
      reloadMe: loadMe,
      switchOrganization,
      signOut,
    };
  }, [api, apiBase, state, adopt, loadMe, switchOrganization, signOut]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
