"""YouTube live chat through the Data API v3: the quota budget (`quota`), the API calls
(`api`), chat items' handlers (`items`) and the polling session (`client`)."""
