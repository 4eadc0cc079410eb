/** The Chat page (placeholder until it is built). */
import Placeholder from "./Placeholder";

export default function Chat() {
  return <Placeholder page="chat" />;
}
