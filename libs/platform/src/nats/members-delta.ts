/**
 * What the message service publishes on `conversationMembersChanged` after a membership change:
 * who joined and who left, or `reset` when too many changed to list (reload the members instead).
 */
export interface MembersDelta {
  conversationId: string;
  added?: string[];
  removed?: string[];
  reset?: boolean;
}
