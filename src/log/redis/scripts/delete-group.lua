-- delete-group.lua: forgets a consumer group: its floor, deliveries and requeued set.
--
-- KEYS[1] groups hash   KEYS[2] the group's deliveries hash   KEYS[3] the group's requeued set
-- ARGV[1] group
-- Returns 1 when the group existed, else 0

redis.call('DEL', KEYS[2], KEYS[3])
return redis.call('HDEL', KEYS[1], ARGV[1])
