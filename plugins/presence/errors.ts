/** The presence plugin's error codes (listed in its README). */
import { defineError } from 'realtime-server'

export const NotInRoom = defineError('RT_PRESENCE_NOT_IN_ROOM', 'Not in room %s', 403,
  'Join the room first (chat\'s `conversation:join`, tenant-broadcast\'s `subscribe:contact`, ...): typing goes, and room presence is shown, only to members.')
export const RoomNotTracked = defineError('RT_PRESENCE_ROOM_NOT_TRACKED', 'Room %s is not tracked by the online list of %s', 400,
  'Add a prefix of the room (e.g. `conversation:`) to `rooms` of that online list in plugins.presence.options.online.')
export const NotVisible = defineError('RT_PRESENCE_NOT_VISIBLE', 'The online list of %s is visible to %s only', 403,
  'Use a token with one of the roles in `visibleTo` of the list, or an API key.')
export const UnknownList = defineError('RT_PRESENCE_UNKNOWN_LIST', 'No online list on namespace %s', 404,
  'Pass the `namespace` of one of the lists in plugins.presence.options.online.')
export const PresenceConfig = defineError('RT_PRESENCE_CONFIG', 'Invalid presence options: %s', 500,
  'Correct plugins.presence.options as the message says: one online list and one typing entry per namespace, room templates naming payload fields.')
