// Umbrella header: everything rediscache offers.
#pragma once

#include "rediscache/args.hpp"
#include "rediscache/client.hpp"
#include "rediscache/cluster.hpp"
#include "rediscache/connection_pool.hpp"
#include "rediscache/errors.hpp"
#include "rediscache/info.hpp"
#include "rediscache/pipeline.hpp"
#include "rediscache/random.hpp"
#include "rediscache/reply.hpp"
#include "rediscache/script.hpp"
#include "rediscache/sentinel.hpp"
#include "rediscache/stats.hpp"
#include "rediscache/subscriber.hpp"
#include "rediscache/transaction.hpp"
