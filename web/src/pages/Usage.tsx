/** The Usage page (placeholder until it is built). */
import Placeholder from "./Placeholder";

export default function Usage() {
  return <Placeholder page="usage" />;
}
