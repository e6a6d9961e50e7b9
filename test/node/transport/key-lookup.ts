/**
 * A test key ring (codec.ts KeyLookup): one client key, and every sender's
 * peer key derived from `peerSecret` on demand (test ids are not known in
 * advance), each derived once per ring.
 */
import { derivePeerKey, type KeyDomain, type KeyLookup } from '../../../node/transport/keys.js';

export function keyLookupOf(peerSecret: string, clientKey: Buffer): KeyLookup {
  const peerKeys = new Map<string, Buffer>();
  return {
    keyFor(domain: KeyDomain, sender: string): Buffer {
      if (domain === 'client') return clientKey;
      let key = peerKeys.get(sender);
      if (key === undefined) {
        key = derivePeerKey(peerSecret, sender);
        peerKeys.set(sender, key);
      }
      return key;
    },
  };
}
