/** Placeholder: filled in by the chats work (issue "Studio, part 2"). */
import type { StudioModule } from "../context.js";

export const chatsModule: StudioModule = { name: "chats" };
