// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title TAG for local networks: a plain BEP-20 (ERC-20 plus `getOwner`), 18 decimals, fixed supply.
/// @notice No fee on transfer, no rebase, no hooks, no pause, no blocklist, no mint after deployment:
///         every balance change is a `Transfer` event (research/bridge.md §6.1). On BNB Chain mainnet the
///         real TAG token is configured instead; this contract exists for devnets and tests.
contract TagToken {
    string public constant name = "Tagger";
    string public constant symbol = "TAG";
    uint8 public constant decimals = 18;

    uint256 public immutable totalSupply;
    address private immutable owner;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error ZeroAddress();
    error InsufficientBalance(uint256 balance, uint256 needed);
    error InsufficientAllowance(uint256 allowance, uint256 needed);

    /// @param holder receives the whole supply (and is the BEP-20 `getOwner`).
    constructor(address holder, uint256 supply) {
        if (holder == address(0)) revert ZeroAddress();
        owner = holder;
        totalSupply = supply;
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    /// @notice BEP-20 requires `getOwner`; it has no powers here.
    function getOwner() external view returns (address) {
        return owner;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        if (spender == address(0)) revert ZeroAddress();
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert InsufficientAllowance(allowed, value);
            unchecked {
                allowance[from][msg.sender] = allowed - value;
            }
        }
        _transfer(from, to, value);
        return true;
    }

    function _transfer(address from, address to, uint256 value) private {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = balanceOf[from];
        if (balance < value) revert InsufficientBalance(balance, value);
        unchecked {
            balanceOf[from] = balance - value;
            balanceOf[to] += value; // cannot overflow: the sum of balances is totalSupply
        }
        emit Transfer(from, to, value); // also for a zero value (BEP-20)
    }
}
