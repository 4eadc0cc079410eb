/** The Settings page (placeholder until it is built). */
import Placeholder from "./Placeholder";

export default function Settings() {
  return <Placeholder page="settings" />;
}
