import redis

import json



r = redis.Redis(host='localhost', port=6379, decode_responses=True)



def get_user(user_id):

    cache_key = f"user:{user_id}"



    # Try cache first

    cached = r.get(cache_key)

    if cached:

        return json.loads(cached)



    # Cache miss: load from database

    user = db.query("SELECT * FROM users WHERE id = %s", [user_id])



    if user:

        # Populate cache with TTL

        r.setex(cache_key, 3600, json.dumps(user))



    return user
