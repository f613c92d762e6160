package strimzi

// convertListenerMap turns the old listener map (plain, tls, external) into the listener list,
// on ports 9092, 9093 and 9094 as Strimzi ran them.
func convertListenerMap(m Object, r *Report) []any {
	var out []any
	for _, name := range []string{"plain", "tls", "external"} {
		l, ok := m[name].(Object)
		if !ok {
			if _, present := m[name]; present && m[name] == nil {
				l = Object{}
			} else {
				continue
			}
		}
		path := "spec.kafka.listeners." + name
		nl := Object{"name": name}
		switch name {
		case "plain":
			nl["port"], nl["type"], nl["tls"] = int64(9092), "internal", false
		case "tls":
			nl["port"], nl["type"], nl["tls"] = int64(9093), "internal", true
		case "external":
			nl["port"] = int64(9094)
			t := str(l["type"])
			if t == "route" {
				r.decide(path+".type", "OpenShift routes are not supported: the listener becomes an ingress listener; set its hosts (configuration.hostTemplate, bootstrap.host)")
				t = "ingress"
			}
			nl["type"] = t
			tls := true
			if v, ok := l["tls"].(bool); ok {
				tls = v
			}
			if t == "ingress" {
				tls = true
			}
			nl["tls"] = tls
		}
		if a, ok := l["authentication"].(Object); ok {
			switch str(a["type"]) {
			case "tls", "scram-sha-512":
				nl["authentication"] = Object{"type": a["type"]}
			default:
				r.decide(path+".authentication", "authentication type "+str(a["type"])+" is not supported: the listener has none")
			}
		}
		if p, ok := l["networkPolicyPeers"]; ok {
			nl["networkPolicyPeers"] = p
		}
		cfg := Object{}
		if c, ok := l["configuration"].(Object); ok {
			for k, v := range c {
				cfg[k] = v
			}
		}
		if ov, ok := l["overrides"].(Object); ok {
			if b, ok := ov["bootstrap"].(Object); ok {
				bs, _ := cfg["bootstrap"].(Object)
				if bs == nil {
					bs = Object{}
				}
				// address becomes an alternative name; the rest (host of a route or
				// ingress, nodePort, …) keeps its name, and what our API lacks is pruned and
				// reported like any other field.
				for _, k := range sortedKeys(b) {
					if k == "address" {
						if a := str(b[k]); a != "" {
							bs["alternativeNames"] = append(list(bs["alternativeNames"]), a)
						}
						continue
					}
					bs[k] = b[k]
				}
				cfg["bootstrap"] = bs
			}
			if bs := list(ov["brokers"]); len(bs) > 0 {
				cfg["brokers"] = append(list(cfg["brokers"]), bs...)
			}
			r.change(path+".overrides", "→ configuration (bootstrap.address becomes bootstrap.alternativeNames)")
		}
		if len(cfg) > 0 {
			nl["configuration"] = cfg
		}
		r.change(path, "→ listener "+name+" in the listener list")
		out = append(out, nl)
	}
	for _, k := range sortedKeys(m) {
		if k != "plain" && k != "tls" && k != "external" {
			r.drop("spec.kafka.listeners."+k, "not a listener of the old map form")
		}
	}
	return out
}
