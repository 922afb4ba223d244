// the tests start real servers and time their reactions; running them one at a time keeps the timings honest on small machines
[assembly: CollectionBehavior(DisableTestParallelization = true)]
