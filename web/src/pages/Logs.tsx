/** The Logs page (placeholder until it is built). */
import Placeholder from "./Placeholder";

export default function Logs() {
  return <Placeholder page="logs" />;
}
