// Umbrella header: everything rediscache offers.
#pragma once

#include "rediscache/args.hpp"
#include "rediscache/client.hpp"
#include "rediscache/connection_pool.hpp"
#include "rediscache/errors.hpp"
#include "rediscache/info.hpp"
#include "rediscache/lock.hpp"
#include "rediscache/pipeline.hpp"
#include "rediscache/random.hpp"
#include "rediscache/rate_limiter.hpp"
#include "rediscache/redlock.hpp"
#include "rediscache/reply.hpp"
#include "rediscache/script.hpp"
#include "rediscache/session_store.hpp"
#include "rediscache/stats.hpp"
#include "rediscache/subscriber.hpp"
#include "rediscache/transaction.hpp"
