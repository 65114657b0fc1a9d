// Umbrella header: everything rediscache offers.
#pragma once

#include "rediscache/args.hpp"
#include "rediscache/client.hpp"
#include "rediscache/connection_pool.hpp"
#include "rediscache/errors.hpp"
#include "rediscache/info.hpp"
#include "rediscache/invalidation.hpp"
#include "rediscache/near_cache.hpp"
#include "rediscache/near_cached_client.hpp"
#include "rediscache/pipeline.hpp"
#include "rediscache/random.hpp"
#include "rediscache/reply.hpp"
#include "rediscache/script.hpp"
#include "rediscache/stats.hpp"
#include "rediscache/subscriber.hpp"
#include "rediscache/transaction.hpp"
