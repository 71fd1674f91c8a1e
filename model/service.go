package model

// ServiceConfig is a stateless fleet whose endpoints run the steps they are
// given.
type ServiceConfig struct {
	Name string
	Fleet
	Endpoints []EndpointConfig
}

func (c *ServiceConfig) ComponentName() string             { return c.Name }
func (c *ServiceConfig) Kind() Kind                        { return KindService }
func (c *ServiceConfig) EndpointConfigs() []EndpointConfig { return c.Endpoints }
func (c *ServiceConfig) DefaultEndpoint(bool) string       { return "" }
func (c *ServiceConfig) Forward() string                   { return "" }
func (c *ServiceConfig) FleetConfig() *Fleet               { return &c.Fleet }

func (c *ServiceConfig) newComponent(b *builder) component {
	return &service{station: newStation(c, b)}
}

// service is a plain station: everything it does is in its steps.
type service struct {
	station
}
