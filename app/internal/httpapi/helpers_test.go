package httpapi_test

import (
	"log/slog"

	"github.com/miyabi/miyabi/app/internal/config"
)

type configT = config.Config

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
