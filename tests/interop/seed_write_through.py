def update_user(user_id, data):

    cache_key = f"user:{user_id}"



    # Write to cache first

    r.setex(cache_key, 3600, json.dumps(data))



    # Then write to database

    db.execute(

        "UPDATE users SET name = %s, email = %s WHERE id = %s",

        [data['name'], data['email'], user_id]

    )
