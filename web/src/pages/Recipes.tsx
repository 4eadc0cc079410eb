/** The Recipes page (placeholder until it is built). */
import Placeholder from "./Placeholder";

export default function Recipes() {
  return <Placeholder page="recipes" />;
}
