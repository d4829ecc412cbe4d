package httpapi

func (s *Server) registerDashboardData() {}
