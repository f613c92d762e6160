package kafkacheck

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Replica is a quorum member or observer with its metadata log directory. A voter is the
// pair (ID, DirectoryID): a controller that lost its disk comes back with the same ID and a new
// directory, as an observer, while the old pair stays a voter.
type Replica struct {
	ID          int32
	DirectoryID [16]byte
	// LastFetch is when the leader last heard from this replica (zero when unknown); Leader
	// marks the quorum's leader.
	LastFetch time.Time
	Leader    bool
}

// QuorumMembers describes the controller quorum's voters and observers (KIP-853 directory IDs
// need DescribeQuorum v2).
func (c *Checker) QuorumMembers(ctx context.Context, k *v1beta1.Kafka) (voters, observers []Replica, err error) {
	resp, err := c.describeQuorum(ctx, k)
	if err != nil {
		return nil, nil, err
	}
	if _, err := quorumOf(resp); err != nil {
		return nil, nil, err
	}
	p := resp.Topics[0].Partitions[0]
	replica := func(r kmsg.DescribeQuorumResponseTopicPartitionReplicaState) Replica {
		out := Replica{ID: r.ReplicaID, DirectoryID: r.ReplicaDirectoryID, Leader: r.ReplicaID == p.LeaderID}
		if r.LastFetchTimestamp > 0 {
			out.LastFetch = time.UnixMilli(r.LastFetchTimestamp)
		}
		return out
	}
	for _, v := range p.CurrentVoters {
		voters = append(voters, replica(v))
	}
	for _, o := range p.Observers {
		observers = append(observers, replica(o))
	}
	return voters, observers, nil
}

// AddVoter makes an observer controller a voter, reachable on the controller listener at host.
func (c *Checker) AddVoter(ctx context.Context, k *v1beta1.Kafka, r Replica, listener, host string, port int) error {
	cl, err := c.Client(k)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.ClusterID = &k.Status.ClusterID
	req.TimeoutMillis = int32(Timeout.Milliseconds())
	req.VoterID, req.VoterDirectoryID = r.ID, r.DirectoryID
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = listener, host, uint16(port)
	req.Listeners = append(req.Listeners, l)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		return fmt.Errorf("adding controller %d to the quorum: %w", r.ID, err)
	}
	return nil
}

// RemoveVoter takes a controller out of the quorum's voters.
func (c *Checker) RemoveVoter(ctx context.Context, k *v1beta1.Kafka, r Replica) error {
	cl, err := c.Client(k)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req := kmsg.NewPtrRemoveRaftVoterRequest()
	req.ClusterID = &k.Status.ClusterID
	req.VoterID, req.VoterDirectoryID = r.ID, r.DirectoryID
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		return fmt.Errorf("removing controller %d from the quorum: %w", r.ID, err)
	}
	return nil
}
