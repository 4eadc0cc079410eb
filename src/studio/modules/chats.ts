/** Chats (/api/chats): sessions, messages, forks, usage, export, and completions with MCP tools. */

import { ChatCompletions } from "../chats/complete.js";
import { registerChatRoutes } from "../chats/routes.js";
import type { StudioContext, StudioModule } from "../context.js";

const COMPLETIONS = new WeakMap<StudioContext, ChatCompletions>();

export const chatsModule: StudioModule = {
  name: "chats",
  routes(app, ctx) {
    const completions = new ChatCompletions(ctx);
    COMPLETIONS.set(ctx, completions);
    registerChatRoutes(app, ctx, completions);
  },
  async stop(ctx) {
    COMPLETIONS.get(ctx)?.abortAll();
  },
};
