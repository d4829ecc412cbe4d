package httpapi

// routes registers every operation of the API. Each resource lives in its own file;
// each operation declares the permission it needs (or permPublic): deny by default.
func (s *Server) routes() {
	s.registerHealth()
	s.registerAuth()
	s.registerOrganizations()
	s.registerTeams()
	s.registerRepositories()
	s.registerAgents()
	s.registerExecutions()
	s.registerWorkflows()
	s.registerTasks()
	s.registerDashboardData()
	s.registerWorkers()
	s.registerCoordinators()
	s.registerWorkerAPI()
	s.registerNotifications()
}
