module oauth-injector/e2e/goclient

go 1.19
