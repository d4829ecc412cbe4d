package httpapi

import "github.com/gin-gonic/gin"

// Engine is the gin engine behind the API, for adapters that need gin itself (the
// Lambda handler's ginadapter). Serve through it only; routes are fixed at NewServer.
func (s *Server) Engine() *gin.Engine { return s.engine }
