/** The Models page (placeholder until it is built). */
import Placeholder from "./Placeholder";

export default function Models() {
  return <Placeholder page="models" />;
}
