package httpapi_test

import "github.com/miyabi/miyabi/app/internal/config"

type configT = config.Config
