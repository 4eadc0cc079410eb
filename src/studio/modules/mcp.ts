/** MCP servers (/api/mcp): registration and tool listing; chats use their tools (chats/complete.ts). */
import type { StudioModule } from "../context.js";
import { registerMcpRoutes } from "../mcp/routes.js";

export const mcpModule: StudioModule = {
  name: "mcp",
  routes(app, ctx) {
    registerMcpRoutes(app, ctx);
  },
};
