import { Page } from '../ui.jsx';

export function Privacy() {
  return (
    <Page title="What is public">
      <ul>
        <li>Every vote appears on the public chain as a tracking code, with a tag that cannot be linked to your account.</li>
        <li>Nobody is shown who voted or what anyone voted. Totals per candidate are public.</li>
        <li>
          In a secret-ballot election your device seals your choice before sending it: only the validators together,
          after the end, open the totals — never a single vote on its own unless enough validators conspire.
        </li>
        <li>In other elections the server records the candidate in the vote and counts it; the chain shows the count.</li>
        <li>Your tracking codes are kept on this device (“My votes”), not your choices.</li>
      </ul>
    </Page>
  );
}
